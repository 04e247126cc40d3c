import { expect, test } from "bun:test";
import type { SpokenItemResult } from "../load/protocol";
import { corpusWer, values } from "./spoken";

const item = (reference: string, transcript: string | null, firstAudioMs: number | null = null): SpokenItemResult => ({
  session: 0,
  item: 0,
  kind: "speech",
  reference,
  prematureEnds: 0,
  endpointingMs: null,
  firstAudioMs,
  firstTextMs: null,
  transcript,
  reply: null,
  latency: null,
});

test("corpus WER weighs each utterance by its words, and a missing transcript counts as all words lost", () => {
  const { wer, errors, words } = corpusWer([
    item("set a timer for ten minutes", "Set a timer for 10 minutes."), // 0 errors of 6
    item("lock the front door please", "lock the door please"), // 1 of 5
    item("turn the heating up", null), // 4 of 4
  ]);
  expect(words).toBe(15);
  expect(errors).toBe(5);
  expect(wer).toBeCloseTo(5 / 15, 6);
});

test("values keeps only the numbers an item has", () => {
  expect(values([item("a", "a", 12.5), item("b", "b", null), item("c", "c", 3)], (t) => t.firstAudioMs)).toEqual([12.5, 3]);
});
