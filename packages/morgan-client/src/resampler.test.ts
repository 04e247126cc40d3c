import { describe, expect, test } from "bun:test";
import { StreamResampler } from "./resampler";

const tone = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));

/** Amplitude at `hz` (a single-bin DFT), ignoring the filter's start-up. */
function amplitudeAt(samples: Float32Array, hz: number, rate: number): number {
  const body = samples.subarray(Math.round(rate * 0.05));
  let re = 0;
  let im = 0;
  for (let i = 0; i < body.length; i++) {
    re += body[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im += body[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / body.length;
}

describe("StreamResampler", () => {
  test("48 kHz → 16 kHz keeps speech-band tones and their level", () => {
    const out = new StreamResampler(48000, 16000).push(tone(440, 48000, 1));
    expect(Math.abs(out.length - 16000)).toBeLessThan(20);
    expect(amplitudeAt(out, 440, 16000)).toBeGreaterThan(0.97);
    expect(amplitudeAt(out, 440, 16000)).toBeLessThan(1.03);
    expect(amplitudeAt(new StreamResampler(48000, 16000).push(tone(3000, 48000, 1)), 3000, 16000)).toBeGreaterThan(0.95);
  });

  test("suppresses what would alias: a 12 kHz tone does not fold onto 4 kHz", () => {
    const out = new StreamResampler(48000, 16000).push(tone(12000, 48000, 1));
    expect(amplitudeAt(out, 4000, 16000)).toBeLessThan(0.01);
  });

  test("20 ms chunks give the same samples as one buffer (state carries across chunks)", () => {
    const input = tone(300, 44100, 0.5);
    const whole = new StreamResampler(44100, 16000).push(input);
    const chunked = new StreamResampler(44100, 16000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 882) parts.push(...chunked.push(input.subarray(i, i + 882)));
    expect(parts.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) expect(Math.abs(parts[i]! - whole[i]!)).toBeLessThan(1e-6);
  });

  test("upsamples too, and passes equal rates through", () => {
    const out = new StreamResampler(8000, 16000).push(tone(500, 8000, 1));
    expect(Math.abs(out.length - 16000)).toBeLessThan(20);
    expect(amplitudeAt(out, 500, 16000)).toBeGreaterThan(0.95);
    const same = tone(500, 16000, 0.1);
    expect(new StreamResampler(16000, 16000).push(same)).toEqual(same);
  });

  test("its source runs on its own, as the AudioWorklet loads it", () => {
    const Loaded = new Function(`return (${StreamResampler.toString()});`)() as typeof StreamResampler;
    const a = new Loaded(48000, 16000).push(tone(440, 48000, 0.1));
    const b = new StreamResampler(48000, 16000).push(tone(440, 48000, 0.1));
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
