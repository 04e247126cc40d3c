/**
 * Turn-taking (issue 11): `semantic` end of turn (Smart Turn at a short pause, a maximum wait behind
 * it) against `silence` (a fixed silence), in the same run, one fresh session per utterance, the modes
 * alternating utterance by utterance so both see the same machine:
 * - complete utterances (the two-voice speech set): endpointing delay from the last voiced sample
 *   sent to the end-of-turn decision (vad_status speaking=false), end of speech → first audio, and
 *   the server's latency report of each turn;
 * - utterances with a mid-sentence pause of 600–900 ms (halves synthesised apart and joined by
 *   silence): premature ends of turn, i.e. decisions that came before the last voiced sample.
 */
import { SPEECH_SET } from "../../tests/pipeline/support/speech-set";
import type { TestVoice } from "../../tests/pipeline/support/speech";
import type { SpokenItem, SpokenItemResult } from "../load/protocol";
import { startMorgan } from "../lib/environment";
import { measured } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { prepareSpeech, runSpoken, said, saidWithPause, values } from "../lib/spoken";
import { distribution, round, sketch } from "../lib/stats";
import { activity, readTritonMetrics } from "../lib/triton-metrics";

/** Sentences cut where a speaker might stop to think: the first part is not a complete request. */
export const PAUSED_SENTENCES: [string, string][] = [
  ["i would like to book", "a table for two"],
  ["remind me to call", "my mother this evening"],
  ["add milk and eggs", "to my shopping list"],
  ["play some relaxing music", "in the living room"],
  ["what time does the pharmacy", "close today"],
  ["set a timer for", "ten minutes"],
  ["turn off the lights", "in the kitchen"],
  ["who wrote the book", "pride and prejudice"],
  ["wake me up at", "seven tomorrow morning"],
  ["how do you say", "thank you in spanish"],
  ["what should i cook", "for dinner tonight"],
  ["can you tell me how long", "it takes to get to the airport"],
];
const PAUSES_MS = [600, 700, 800, 900];
const MODES = ["semantic", "silence"] as const;
type Mode = (typeof MODES)[number];
/**
 * Replies capped at 24 tokens: a complete utterance's session waits for response_complete (its
 * latency report), which comes with the reply's last audio, paced to real time.
 */
const SETTINGS = { max_response_tokens: 24 };
const TARGET = { p50: 300, p95: 700 };

function pausedSet(): SpokenItem[] {
  const voices: [TestVoice, number][] = [["piper", PAUSED_SENTENCES.length], ["espeak", 6]];
  let i = 0;
  return voices.flatMap(([voice, count]) => PAUSED_SENTENCES.slice(0, count).map((parts) => saidWithPause(parts, voice, PAUSES_MS[i++ % PAUSES_MS.length]!)));
}

/** Runs each item once per mode, alternating which mode goes first. */
async function bothModes(wsUrl: string, items: SpokenItem[], until: "end_of_turn" | "first_audio" | "complete", log: (line: string) => void, what: string) {
  const results: Record<Mode, SpokenItemResult[]> = { semantic: [], silence: [] };
  const errors: string[] = [];
  for (const [index, item] of items.entries()) {
    const order = index % 2 === 0 ? MODES : ([...MODES].reverse() as Mode[]);
    for (const mode of order) {
      const run = await runSpoken({ wsUrl, settings: { ...SETTINGS, turn_detection: { mode } }, sessions: [{ items: [item], offsetMs: 0 }], sessionPerItem: true, until, itemTimeoutMs: 20_000, deadlineS: 60 }, 90);
      errors.push(...run.errors.map((e) => `${mode}: ${e}`));
      results[mode].push(...run.items);
    }
    if ((index + 1) % 10 === 0) log(`turntaking: ${what} ${index + 1}/${items.length}`);
  }
  return { results, errors };
}

export const turnTakingScenario: Scenario = async (context) => {
  const { quick, log } = context;
  const complete = SPEECH_SET.map(({ text, voice }) => said(text, voice));
  const paused = pausedSet();
  const completeSet = quick ? [complete[0]!, complete[3]!, complete[20]!, complete[23]!] : complete;
  const pausedItems = quick ? [paused[0]!, paused[1]!, paused[12]!, paused[13]!] : paused;
  log(`turntaking: synthesising ${completeSet.length + pausedItems.length} utterances (cached under .run/speech)`);
  prepareSpeech([...completeSet, ...pausedItems]);
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const server = await startMorgan({ tritonUrl: context.triton.grpcUrl, profileDir: context.profileDir && `${context.profileDir}/turntaking` });
  try {
    log("turntaking: warm-up turns (not measured)");
    await bothModes(server.wsUrl, [complete[1]!], "first_audio", log, "warm-up");

    log(`turntaking: ${pausedItems.length} utterances with a mid-sentence pause, both modes`);
    const pause = await bothModes(server.wsUrl, pausedItems, "end_of_turn", log, "paused");
    log(`turntaking: ${completeSet.length} complete utterances, both modes`);
    const metricsBefore = await readTritonMetrics(context.triton.ports.metrics);
    const wholeStarted = performance.now();
    const whole = await measured({ server: server.pid, triton: context.triton.pid() }, () => bothModes(server.wsUrl, completeSet, "complete", log, "complete"));
    const models = activity(metricsBefore, await readTritonMetrics(context.triton.ports.metrics), (performance.now() - wholeStarted) / 1000);
    notes.push(...pause.errors, ...whole.result.errors);

    const setLoad = `${pausedItems.length} paused utterances (${pausedItems.filter((i) => i.kind === "speech" && i.utterance.voice === "piper").length} Piper, ${pausedItems.filter((i) => i.kind === "speech" && i.utterance.voice === "espeak").length} espeak-ng)`;
    const premature: Record<Mode, number> = { semantic: 0, silence: 0 };
    for (const mode of MODES) {
      const items = pause.results[mode];
      premature[mode] = items.filter((t) => t.prematureEnds > 0).length;
      rows.push({ figure: `premature ends of turn, ${mode} (utterances cut at the pause / measured)`, load: setLoad, unit: "utterances", value: `${premature[mode]} / ${items.length}` });
      for (const voice of ["piper", "espeak"]) {
        const ofVoice = items.filter((t) => t.voice === voice);
        rows.push({ figure: `  ${mode}, ${voice}`, load: setLoad, unit: "utterances", value: `${ofVoice.filter((t) => t.prematureEnds > 0).length} / ${ofVoice.length}` });
      }
      rows.push({ figure: `end of speech → end of turn on the paused set, ${mode}, client`, load: setLoad, unit: "ms", distribution: distribution(values(items, (t) => t.endpointingMs)) });
    }
    const missing = MODES.flatMap((mode) => pause.results[mode].filter((t) => t.endpointingMs === null).map((t) => `${mode}: "${t.reference}" (${t.voice})`));
    if (missing.length > 0) notes.push(`paused utterances without an end of turn after the last voiced sample: ${missing.join("; ")}`);

    const completeLoad = `${completeSet.length} complete utterances, 1 session`;
    const endpointing: Record<Mode, ReturnType<typeof distribution>> = { semantic: null, silence: null };
    const firstAudio: Record<Mode, ReturnType<typeof distribution>> = { semantic: null, silence: null };
    for (const mode of MODES) {
      const items = whole.result.results[mode];
      endpointing[mode] = distribution(values(items, (t) => t.endpointingMs));
      firstAudio[mode] = distribution(values(items, (t) => t.firstAudioMs));
      rows.push({ figure: `endpointing: last voiced chunk sent → vad_status speaking=false, ${mode}, client`, load: completeLoad, unit: "ms", distribution: endpointing[mode] });
      for (const voice of ["piper", "espeak"]) {
        rows.push({ figure: `  ${mode}, ${voice}`, load: completeLoad, unit: "ms", distribution: distribution(values(items.filter((t) => t.voice === voice), (t) => t.endpointingMs)) });
      }
      rows.push({ figure: `end of speech → first response_audio, ${mode}, client`, load: completeLoad, unit: "ms", distribution: firstAudio[mode], server: mode === "semantic" ? whole.server : undefined, triton: mode === "semantic" ? whole.triton : undefined });
      // The server's own account of the same turns: where the endpointing saving goes.
      for (const stage of ["endpointing_ms", "stt_final_ms", "llm_first_token_ms", "first_sentence_ms", "tts_first_chunk_ms"]) {
        rows.push({ figure: `  server report: ${stage}, ${mode}`, load: completeLoad, unit: "ms", distribution: distribution(values(items, (t) => t.latency?.[stage])) });
      }
      rows.push({ figure: `turns with a reply / said, ${mode}`, load: completeLoad, unit: "turns", value: `${values(items, (t) => t.firstAudioMs).length} / ${items.length}` });
      const cut = items.filter((t) => t.prematureEnds > 0).length;
      if (cut > 0) notes.push(`${mode}: ${cut} complete utterances had an end of turn before their last voiced sample (a pause inside the synthesised speech)`);
    }

    // What the end-of-turn decision waits on besides the pause itself: the VAD's and the turn model's calls.
    const turnsRun = Math.max(1, whole.result.results.semantic.length + whole.result.results.silence.length);
    for (const m of models.filter((m) => ["vad", "turn", "stt"].includes(m.model))) {
      rows.push({ figure: `Triton ${m.model}: requests per utterance · mean queue ms · mean compute ms per request`, load: completeLoad, unit: "", value: `${round(m.requests / turnsRun, 1)} · ${m.meanQueueMs} · ${m.meanComputeMs}` });
    }

    targets.push({ name: "premature ends of turn on the pause set, semantic", goal: "0", measured: `${premature.semantic} of ${pause.results.semantic.length} (silence mode: ${premature.silence} of ${pause.results.silence.length})`, met: premature.semantic === 0 && pause.results.semantic.length > 0 });
    const sem = endpointing.semantic;
    const sil = endpointing.silence;
    if (sem) {
      targets.push({ name: "endpointing delay on complete utterances, semantic, p50", goal: "≤ 300 ms", measured: `${round(sem.p50, 0)} ms (silence mode ${sil ? round(sil.p50, 0) : "–"} ms)`, met: sem.p50 <= TARGET.p50 });
      targets.push({ name: "endpointing delay on complete utterances, semantic, p95", goal: "≤ 700 ms", measured: `${round(sem.p95, 0)} ms (silence mode ${sil ? round(sil.p95, 0) : "–"} ms)`, met: sem.p95 <= TARGET.p95 });
    }
    const fa = firstAudio;
    if (sem && sil && fa.semantic && fa.silence) {
      const endpointingSaving = sil.p50 - sem.p50;
      const firstAudioSaving = fa.silence.p50 - fa.semantic.p50;
      rows.push({ figure: "saving semantic vs silence at p50: endpointing · first audio", load: completeLoad, unit: "ms", value: `${round(endpointingSaving, 0)} · ${round(firstAudioSaving, 0)}` });
      targets.push({
        name: "end of speech → first audio improves on silence mode by at least the endpointing saving (p50, same run)",
        goal: `≥ ${round(endpointingSaving, 0)} ms`,
        measured: `${round(firstAudioSaving, 0)} ms (semantic ${round(fa.semantic.p50, 0)} ms, silence ${round(fa.silence.p50, 0)} ms)`,
        met: firstAudioSaving >= endpointingSaving,
      });
    }
    const plots = {
      endpointingMs: Object.fromEntries(MODES.map((m) => [m, sketch(values(whole.result.results[m], (t) => t.endpointingMs))])),
      firstAudioMs: Object.fromEntries(MODES.map((m) => [m, sketch(values(whole.result.results[m], (t) => t.firstAudioMs))])),
      paused: Object.fromEntries(MODES.map((m) => [m, pause.results[m].map((t) => ({ reference: t.reference, voice: t.voice, pauseMs: t.pauseMs, prematureEnds: t.prematureEnds, endpointingMs: t.endpointingMs && round(t.endpointingMs, 1) }))])),
    };
    return { rows, targets, notes, plots };
  } finally {
    await server.stop();
  }
};
