/**
 * Test speech from Flite (Debian's `flite`), an engine independent of Morgan's TTS path: the
 * words a test "says" into the microphone.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeWav, float32ToPcm16, resample } from "../../../src/audio/pcm";

export function speak(text: string, voice = "slt", sampleRate = 16000): Float32Array {
  const dir = mkdtempSync(join(tmpdir(), "morgan-speech-"));
  try {
    const file = join(dir, "speech.wav");
    const result = Bun.spawnSync(["flite", "-voice", voice, "-t", text, "-o", file]);
    if (result.exitCode !== 0) throw new Error(`flite failed: ${result.stderr.toString()}`);
    const wav = decodeWav(readFileSync(file));
    return resample(wav.samples, wav.sampleRate, sampleRate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function silence(ms: number, sampleRate = 16000): Float32Array {
  return new Float32Array(Math.round((ms / 1000) * sampleRate));
}

/** Splits audio into 16-bit PCM chunks of `chunkMs` (20 ms, as a browser microphone sends). */
export function pcmChunks(samples: Float32Array, chunkMs = 20, sampleRate = 16000): Uint8Array[] {
  const size = Math.round((chunkMs / 1000) * sampleRate);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < samples.length; i += size) chunks.push(float32ToPcm16(samples.subarray(i, i + size)));
  return chunks;
}

/** Word error rate: word-level edit distance over the reference length. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const words = (s: string) => s.toLowerCase().replace(/[^a-z0-9' ]/g, " ").split(/\s+/).filter(Boolean);
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return ref.length === 0 ? 0 : previous[hyp.length]! / ref.length;
}
