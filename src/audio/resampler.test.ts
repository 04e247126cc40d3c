import { expect, test } from "bun:test";
import { resampleSpeech } from "./resampler";

const tone = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));

/** Energy of `samples` at frequency `hz` (a single DFT bin), normalised by length. */
function energyAt(samples: Float32Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < samples.length; i++) {
    re += samples[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im -= samples[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return Math.hypot(re, im) / samples.length;
}

test("22,050 Hz speech becomes 16 kHz of the same duration, keeping in-band tones", async () => {
  const out = await resampleSpeech(tone(440, 22050, 1), 22050, 16000);
  expect(Math.abs(out.length - 16000)).toBeLessThanOrEqual(2);
  expect(energyAt(out, 440, 16000)).toBeGreaterThan(0.45);
});

test("energy above the new Nyquist frequency is removed, not folded back (no aliasing)", async () => {
  // A 10 kHz tone cannot exist at 16 kHz; a linear interpolator would fold it to 6 kHz.
  const out = await resampleSpeech(tone(10_000, 22050, 1), 22050, 16000);
  expect(energyAt(out, 6_000, 16000)).toBeLessThan(0.01);
});

test("the same rate passes through untouched", async () => {
  const input = tone(300, 16000, 0.1);
  expect(await resampleSpeech(input, 16000, 16000)).toBe(input);
});
