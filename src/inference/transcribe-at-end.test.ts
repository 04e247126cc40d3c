import { expect, test } from "bun:test";
import { transcribeAtEnd } from "./transcribe-at-end";
import type { SpeechToText, Transcript } from "./types";

/** A fake STT that records the requests it gets and reports a partial for each push. */
function recordingStt() {
  const pushes: number[] = [];
  const stt: SpeechToText = {
    open: ({ onPartial }) => ({
      push: (samples) => {
        pushes.push(samples.length);
        onPartial({ text: "partial", isFinal: false, confidence: 0 });
      },
      finish: async (): Promise<Transcript> => ({ text: `heard ${pushes.reduce((a, b) => a + b, 0)} samples`, isFinal: true, confidence: 0.9 }),
      abort: () => {},
    }),
  };
  return { stt, pushes };
}

test("audio is held while the user speaks and sent as one request when the utterance ends; no partials reach the caller", async () => {
  const { stt, pushes } = recordingStt();
  const seen: Transcript[] = [];
  const utterance = transcribeAtEnd(stt).open({ language: "en", onPartial: (t) => seen.push(t) });
  for (let i = 0; i < 50; i++) utterance.push(new Float32Array(320));
  expect(pushes).toEqual([]);
  const final = await utterance.finish();
  expect(pushes).toEqual([16_000]);
  expect(final).toEqual({ text: "heard 16000 samples", isFinal: true, confidence: 0.9 });
  expect(seen).toEqual([]);
  await expect(utterance.finish()).rejects.toThrow("already finished");
});

test("an aborted utterance sends nothing", async () => {
  const { stt, pushes } = recordingStt();
  const utterance = transcribeAtEnd(stt).open({ language: "en", onPartial: () => {} });
  utterance.push(new Float32Array(320));
  utterance.abort();
  utterance.push(new Float32Array(320));
  expect(pushes).toEqual([]);
});
