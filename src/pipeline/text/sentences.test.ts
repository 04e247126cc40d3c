import { describe, expect, test } from "bun:test";
import { SentenceSplitter } from "./sentences";

function splitStreamed(text: string, chunk = 3, options?: ConstructorParameters<typeof SentenceSplitter>[0]) {
  const splitter = new SentenceSplitter(options);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += chunk) pieces.push(...splitter.push(text.slice(i, i + chunk)));
  return [...pieces, ...splitter.flush()];
}

describe("SentenceSplitter", () => {
  test("emits each sentence as soon as the next one starts", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("The weather is fine today.")).toEqual([]);
    expect(splitter.push(" Tomorrow")).toEqual(["The weather is fine today."]);
    expect(splitter.flush()).toEqual(["Tomorrow"]);
  });

  test("does not cut inside numbers, abbreviations or initials", () => {
    const text = "Pi is about 3.14 in most books. Dr. Smith met J. Doe at 5 p.m. today! Really?";
    expect(splitStreamed(text)).toEqual([
      "Pi is about 3.14 in most books.",
      "Dr. Smith met J. Doe at 5 p.m. today!",
      "Really?",
    ]);
  });

  test("joins very short sentences with the next one", () => {
    expect(splitStreamed("Yes. I can help with that right away.")).toEqual(["Yes. I can help with that right away."]);
  });

  test("cuts run-on text at a clause or word boundary below the maximum", () => {
    const runOn = "word ".repeat(100);
    const pieces = splitStreamed(runOn, 7, { maxChars: 50, minChars: 5, firstClauseMinChars: 40 });
    expect(pieces.length).toBeGreaterThan(5);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(50);
    expect(pieces.join(" ").split(/\s+/).length).toBe(100);
  });

  test("a long first sentence is cut at its first clause boundary so speech can start; later ones are not", () => {
    const text =
      "The capital of France is Paris, which has been its capital for centuries, and it lies on the Seine. " +
      "It is famous for its museums, its cafes, and the Eiffel Tower.";
    expect(splitStreamed(text)).toEqual([
      "The capital of France is Paris, which has been its capital for centuries,",
      "and it lies on the Seine.",
      "It is famous for its museums, its cafes, and the Eiffel Tower.",
    ]);
  });

  test("a clause mark too early in the first sentence does not cut it", () => {
    expect(splitStreamed("Yes, the answer is four. Anything else?")).toEqual(["Yes, the answer is four.", "Anything else?"]);
  });

  test("keeps every character of the text across pieces", () => {
    const text = "One thing, then another; and finally: done. Second sentence here!\nThird line";
    expect(splitStreamed(text, 1).join(" ").replace(/\s+/g, " ")).toBe(text.replace(/\s+/g, " "));
  });
});
