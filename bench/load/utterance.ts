/**
 * The audio of one spoken test utterance, as 20 ms chunks, with where its voice is: a whole sentence
 * as the synthesiser says it, or a sentence cut in parts with a pause of exactly `pauseMs` between the
 * last voiced sample of one part and the first of the next (each part's own leading and trailing
 * silence trimmed, so the pause is the one asked for). The last voiced chunk is the zero the
 * benchmarks measure endpointing and time to first audio from.
 */
import { pcmChunks, silence, speak, type TestVoice } from "../../tests/pipeline/support/speech";

export const CHUNK_MS = 20;
const SAMPLE_RATE = 16000;
/** A chunk whose peak reaches this level holds voice (the browser bench uses the same level). */
export const VOICED_LEVEL = 0.02;

export interface UtteranceSpec {
  voice: TestVoice;
  /** One part: the sentence as spoken. Several: spoken separately and joined by `pauseMs` of silence. */
  parts: string[];
  pauseMs?: number;
}

export interface UtteranceAudio {
  /** 16-bit PCM, 16 kHz mono, base64, one 20 ms chunk each. */
  chunks: string[];
  /** Index of the first and last chunk holding a voiced sample. */
  firstVoiced: number;
  lastVoiced: number;
  durationMs: number;
}

function voicedRange(samples: Float32Array): [number, number] {
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) >= VOICED_LEVEL) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) throw new Error("synthesised speech has no voiced sample");
  return [first, last];
}

export function utteranceAudio(spec: UtteranceSpec): UtteranceAudio {
  let samples: Float32Array;
  if (spec.parts.length === 1) {
    samples = speak(spec.parts[0]!, spec.voice, SAMPLE_RATE);
  } else {
    const pieces: Float32Array[] = [];
    spec.parts.forEach((part, i) => {
      const spoken = speak(part, spec.voice, SAMPLE_RATE);
      const [first, last] = voicedRange(spoken);
      // Keep the synthesiser's lead-in before the first part and its tail after the last one.
      pieces.push(spoken.subarray(i === 0 ? 0 : first, i === spec.parts.length - 1 ? spoken.length : last + 1));
      if (i < spec.parts.length - 1) pieces.push(silence(spec.pauseMs ?? 0, SAMPLE_RATE));
    });
    samples = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const piece of pieces) {
      samples.set(piece, offset);
      offset += piece.length;
    }
  }
  const [first, last] = voicedRange(samples);
  const perChunk = (SAMPLE_RATE * CHUNK_MS) / 1000;
  return {
    chunks: pcmChunks(samples, CHUNK_MS, SAMPLE_RATE).map((chunk) => Buffer.from(chunk).toString("base64")),
    firstVoiced: Math.floor(first / perChunk),
    lastVoiced: Math.floor(last / perChunk),
    durationMs: (samples.length / SAMPLE_RATE) * 1000,
  };
}
