/** Helpers of the scenarios that script spoken users (models, turntaking): jobs, items and figures. */
import { wordErrorRate, type TestVoice } from "../../tests/pipeline/support/speech";
import type { SpokenItem, SpokenItemResult, SpokenJob, SpokenResult } from "../load/protocol";
import { utteranceAudio } from "../load/utterance";
import { runWorkers } from "./workers";

export function said(text: string, voice: TestVoice): SpokenItem {
  return { kind: "speech", utterance: { voice, parts: [text] }, reference: text, label: voice };
}

/** A sentence said in parts with a pause between them (the reference is the whole sentence). */
export function saidWithPause(parts: string[], voice: TestVoice, pauseMs: number): SpokenItem {
  return { kind: "speech", utterance: { voice, parts, pauseMs }, reference: parts.join(" "), label: `${voice}, ${pauseMs} ms pause` };
}

export function typed(text: string, label?: string): SpokenItem {
  return { kind: "text", text, label };
}

/**
 * Synthesises (into the speech cache, .run/speech/) every utterance of the items in the harness, so
 * the load workers only read files and the first measured turn does not wait on Piper.
 */
export function prepareSpeech(items: readonly SpokenItem[]): void {
  for (const item of items) if (item.kind === "speech") utteranceAudio(item.utterance);
}

/** One spoken job in one load-worker process; throws when the worker fails. */
export async function runSpoken(job: Omit<SpokenJob, "kind">, limitS: number): Promise<SpokenResult> {
  const { results } = await runWorkers<SpokenResult>([{ kind: "spoken", ...job }], limitS);
  return results[0]!;
}

/** The numbers `pick` finds among the items (nulls left out). */
export function values(items: readonly SpokenItemResult[], pick: (item: SpokenItemResult) => number | null | undefined): number[] {
  return items.flatMap((item) => {
    const value = pick(item);
    return typeof value === "number" && Number.isFinite(value) ? [value] : [];
  });
}

/**
 * Word error rate over a whole set: all word errors over all reference words (not the mean of
 * per-utterance rates). An utterance with no transcript counts as all its words deleted.
 */
export function corpusWer(items: readonly SpokenItemResult[]): { wer: number; errors: number; words: number } {
  let errors = 0;
  let words = 0;
  for (const item of items) {
    const length = item.reference.split(/\s+/).filter(Boolean).length;
    words += length;
    errors += wordErrorRate(item.reference, item.transcript ?? "") * length;
  }
  return { wer: words === 0 ? 0 : errors / words, errors: Math.round(errors), words };
}
