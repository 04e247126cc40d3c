import { describe, expect, test } from "bun:test";
import { decodeWav, encodeWav, float32ToPcm16, pcm16ToFloat32, resample } from "./pcm";

describe("pcm", () => {
  test("16-bit round trip is exact to one quantisation step", () => {
    const samples = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 0.9);
    const back = pcm16ToFloat32(float32ToPcm16(samples));
    for (let i = 0; i < samples.length; i++) expect(Math.abs(back[i]! - samples[i]!)).toBeLessThan(1 / 16384);
  });

  test("clips out-of-range samples instead of wrapping", () => {
    const back = pcm16ToFloat32(float32ToPcm16(Float32Array.from([2, -2])));
    expect(back[0]).toBeCloseTo(1, 3);
    expect(back[1]).toBe(-1);
  });

  test("refuses an odd number of bytes", () => {
    expect(() => pcm16ToFloat32(new Uint8Array(3))).toThrow("even number of bytes");
  });

  test("resampling keeps duration and a tone's shape", () => {
    const tone = Float32Array.from({ length: 48000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 48000));
    const down = resample(tone, 48000, 16000);
    expect(down.length).toBe(16000);
    const expected = Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000));
    const maxError = down.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0);
    expect(maxError).toBeLessThan(0.01);
  });

  test("WAV encode/decode round trip, and clear errors on bad files", () => {
    const samples = Float32Array.from({ length: 800 }, (_, i) => (i % 50) / 100);
    const wav = encodeWav(samples, 22050);
    const decoded = decodeWav(wav);
    expect(decoded.sampleRate).toBe(22050);
    expect(decoded.samples.length).toBe(800);
    expect(() => decodeWav(new Uint8Array(10))).toThrow("not a RIFF/WAVE file");
    const eightBit = wav.slice();
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    expect(() => decodeWav(eightBit)).toThrow("16-bit PCM");
  });
});
