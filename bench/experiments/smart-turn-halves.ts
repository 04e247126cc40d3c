/**
 * Why `semantic` turn detection ends the turntaking scenario's paused utterances early: what the turn
 * model (Smart Turn v3.2) says about the first part of each paused sentence, followed by the 200 ms of
 * silence after which Morgan asks it. Two ways of making that first part:
 * - "alone": the part synthesised by itself (how the scenario builds its pause set);
 * - "cut": the whole sentence synthesised, cut at the quietest point near where the part ends, so the
 *   part keeps the sentence's mid-sentence prosody.
 * At or above 0.5 (eagerness auto/medium) Morgan ends the turn at the pause.
 *
 *   bun bench/experiments/smart-turn-halves.ts [triton-http-url]   (default http://127.0.0.1:8100)
 */
import { silence, speak, type TestVoice } from "../../tests/pipeline/support/speech";
import { VOICED_LEVEL } from "../load/utterance";
import { PAUSED_SENTENCES } from "../scenarios/turntaking";

const TRITON = process.argv[2] ?? "http://127.0.0.1:8100";
const RATE = 16000;
const ASKED_AFTER_MS = 200;

async function completeProbability(samples: Float32Array): Promise<number> {
  const body = { inputs: [{ name: "AUDIO", shape: [1, samples.length], datatype: "FP32", data: Array.from(samples) }] };
  const response = await fetch(`${TRITON}/v2/models/turn/infer`, { method: "POST", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`turn model: HTTP ${response.status} ${await response.text()}`);
  const json = (await response.json()) as { outputs: { data: number[] }[] };
  return json.outputs[0]!.data[0]!;
}

function voiced(samples: Float32Array): [number, number] {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) < VOICED_LEVEL) first++;
  let last = samples.length - 1;
  while (last > 0 && Math.abs(samples[last]!) < VOICED_LEVEL) last--;
  return [first, last];
}

/** The part's audio up to its last voiced sample, then the pause Morgan waits before asking. */
function askedAt(part: Float32Array): Float32Array {
  const head = part.subarray(0, voiced(part)[1] + 1);
  const out = new Float32Array(head.length + silence(ASKED_AFTER_MS).length);
  out.set(head);
  return out;
}

/** The whole sentence cut at its quietest 20 ms within 60–115% of the part's own voiced length. */
function cutFromWhole(whole: Float32Array, part: Float32Array): Float32Array {
  const [start] = voiced(whole);
  const [a, b] = voiced(part);
  const length = b - a;
  const frame = (RATE * 20) / 1000;
  let best = start + length;
  let bestEnergy = Infinity;
  for (let at = start + Math.round(0.6 * length); at < Math.min(whole.length - frame, start + Math.round(1.15 * length)); at += frame / 2) {
    let energy = 0;
    for (let i = at; i < at + frame; i++) energy += whole[i]! * whole[i]!;
    if (energy < bestEnergy) {
      bestEnergy = energy;
      best = at + frame / 2;
    }
  }
  return whole.subarray(0, best);
}

console.log("| voice | first part | P(complete), alone | P(complete), cut from the whole sentence |");
console.log("|---|---|---:|---:|");
for (const voice of ["piper", "espeak"] as TestVoice[]) {
  for (const [first, rest] of PAUSED_SENTENCES) {
    const part = speak(first, voice);
    const alone = await completeProbability(askedAt(part));
    const cut = await completeProbability(askedAt(cutFromWhole(speak(`${first} ${rest}`, voice), part)));
    console.log(`| ${voice} | ${first} … | ${alone.toFixed(2)} | ${cut.toFixed(2)} |`);
  }
}
