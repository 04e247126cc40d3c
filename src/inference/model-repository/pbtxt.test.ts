import { describe, expect, test } from "bun:test";
import { PbtxtError, parsePbtxt, repeated } from "./pbtxt";

describe("parsePbtxt", () => {
  test("reads Triton's config shapes: scalars, enums, lists, nested and repeated messages", () => {
    const config = parsePbtxt(`
      name: "stt"  # a comment
      max_batch_size: 4
      model_transaction_policy { decoupled: true }
      input [ { name: "WAV", data_type: TYPE_FP32, dims: [ -1 ] } ]
      output { name: "A" dims: [1] }
      output { name: "B" dims: [1] }
      parameters: { key: "k", value: { string_value: "v" } }
    `);
    expect(config.name).toBe("stt");
    expect(config.max_batch_size).toBe(4);
    expect(config.model_transaction_policy).toEqual({ decoupled: true });
    expect(config.input).toEqual([{ name: "WAV", data_type: "TYPE_FP32", dims: [-1] }]);
    expect(repeated(config.output).map((o) => (o as { name: string }).name)).toEqual(["A", "B"]);
    expect(config.parameters).toEqual({ key: "k", value: { string_value: "v" } });
  });

  test("reports malformed input instead of guessing", () => {
    expect(() => parsePbtxt("name: ")).toThrow(PbtxtError);
    expect(() => parsePbtxt("input [ { name: \"x\" ")).toThrow(/unexpected end of input/);
    expect(() => parsePbtxt("name \"x\"")).toThrow(/expected ":" after name/);
    expect(() => parsePbtxt('name: "unterminated')).toThrow(/unexpected character at offset 6/);
  });
});
