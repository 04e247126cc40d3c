import { expect, test } from "bun:test";
import { CHUNK_MS, utteranceAudio, VOICED_LEVEL } from "./utterance";

/** The longest run of quiet chunks between the first and last voiced chunk. */
function longestInnerQuietMs(chunks: string[], first: number, last: number): number {
  let longest = 0;
  let run = 0;
  for (let i = first; i <= last; i++) {
    const pcm = new Int16Array(Buffer.from(chunks[i]!, "base64").buffer.slice(0));
    const peak = pcm.reduce((m, s) => Math.max(m, Math.abs(s) / 32768), 0);
    run = peak >= VOICED_LEVEL ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest * CHUNK_MS;
}

test("a sentence said in two parts has the pause asked for between its voiced parts (espeak-ng)", () => {
  const whole = utteranceAudio({ voice: "espeak", parts: ["set a timer for ten minutes"] });
  const paused = utteranceAudio({ voice: "espeak", parts: ["set a timer for", "ten minutes"], pauseMs: 800 });
  expect(whole.lastVoiced).toBeGreaterThan(whole.firstVoiced);
  expect(longestInnerQuietMs(whole.chunks, whole.firstVoiced, whole.lastVoiced)).toBeLessThan(400);
  const gap = longestInnerQuietMs(paused.chunks, paused.firstVoiced, paused.lastVoiced);
  // Chunk-rounded: the pause may straddle one chunk boundary on each side.
  expect(gap).toBeGreaterThanOrEqual(800 - 2 * CHUNK_MS);
  expect(gap).toBeLessThanOrEqual(800 + 2 * CHUNK_MS);
  expect(paused.lastVoiced).toBeLessThan(paused.chunks.length);
});
