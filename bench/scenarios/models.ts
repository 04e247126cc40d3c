/**
 * The neural models (issue 10) as a user meets them through Morgan:
 * - the two-voice speech set (tests/pipeline/support/speech-set.ts: Piper and espeak-ng) said by one
 *   user, a fresh session per utterance: word error rate of the final transcripts over the whole set,
 *   and time to first audio from the END OF THE USER'S SPEECH (the send of the chunk holding the last
 *   voiced sample, so endpointing is included), with each stage from the server's latency report;
 * - LLM time to first token on the follow-up turns of 5-turn typed conversations;
 * - 3, 4 and 5 concurrent voice sessions, each speaking every 10 s: time to first audio;
 * - tritonserver's memory with all models loaded, and each model's CPU per voice turn (the Python
 *   stubs' CPU from /proc, Triton's own compute and queue times);
 * - the replies to a fixed list of 8 everyday questions, kept in the results for comparing models.
 */
import { SPEECH_SET } from "../../tests/pipeline/support/speech-set";
import type { SpokenItem, SpokenItemResult } from "../load/protocol";
import { startMorgan } from "../lib/environment";
import { measured } from "../lib/measure";
import { tritonCpuByModel, tritonRssByModel } from "../lib/procstat";
import type { Row, Scenario, Target } from "../lib/scenario";
import { corpusWer, prepareSpeech, runSpoken, said, typed, values } from "../lib/spoken";
import { distribution, round, sketch } from "../lib/stats";
import { activity, readTritonMetrics } from "../lib/triton-metrics";

/** Everyday requests whose replies are stored with every run, so model changes can be compared. */
export const EVERYDAY_QUESTIONS = [
  "What is 2 plus 2?",
  "What's the capital of France?",
  "How many minutes are in two hours?",
  "Tell me a joke about penguins.",
  "What should I cook for dinner tonight?",
  "How do you say thank you in Spanish?",
  "What is the boiling point of water?",
  "Give me one tip for sleeping better.",
];

/** A typed conversation: turns 2–5 are follow-ups whose prompt extends the previous turn's. */
const CONVERSATION = [
  "What's the capital of France?",
  "What is it famous for?",
  "How many people live there?",
  "What is the weather like there in spring?",
  "Thanks. What should I visit first?",
];

/**
 * Voice turns: replies capped at 24 tokens. Reply audio is paced to real time, so a turn's latency
 * report (sent when its last audio is) comes a reply's length after its first audio; the cap keeps a
 * run short and each reply ends before a rhythmic user's next question. First audio waits only for the
 * first sentence, which the clause splitter keeps short anyway.
 */
const VOICE_SETTINGS = { max_response_tokens: 24 };
/** Typed turns: the server's defaults, a fixed seed for repeatable replies. */
const TEXT_SETTINGS = { seed: 7 };
const TARGET = { wer: 0.08, firstAudioP50: 1200, firstAudioP95: 1800, followUpP50: 300, concurrentP95: 2500 };
const STAGES = ["endpointing_ms", "stt_final_ms", "llm_first_token_ms", "first_sentence_ms", "tts_first_chunk_ms"] as const;
const RHYTHM_MS = 10_000;

const pct = (value: number) => `${round(value * 100, 1)}%`;

export const modelsScenario: Scenario = async (context) => {
  const { quick, log } = context;
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const plots: Record<string, unknown> = {};
  const tritonPid = context.triton.pid();
  if (tritonPid === undefined) throw new Error("the bench Triton's pid is unknown (no triton.pid in its run directory)");
  const speechSet: SpokenItem[] = SPEECH_SET.map(({ text, voice }) => said(text, voice));
  const oneSessionSet = quick ? [speechSet[0]!, speechSet[3]!, speechSet[20]!, speechSet[23]!] : speechSet;
  log(`models: synthesising ${speechSet.length} utterances (cached under .run/speech)`);
  prepareSpeech(speechSet);

  const voiceServer = await startMorgan({ tritonUrl: context.triton.grpcUrl, profileDir: context.profileDir && `${context.profileDir}/models` });
  // Typed turns only: reply audio sent as fast as it is made, so a turn completes when its text does.
  const textServer = await startMorgan({ tritonUrl: context.triton.grpcUrl, env: { MORGAN_AUDIO_LEAD_MS: "60000" } });
  try {
    log("models: warm-up turns (not measured)");
    await runSpoken({ wsUrl: voiceServer.wsUrl, settings: VOICE_SETTINGS, sessions: [{ items: [said("what is the weather like today", "piper")], offsetMs: 0 }], sessionPerItem: true, until: "complete", itemTimeoutMs: 60_000, deadlineS: 90 }, 120);
    await runSpoken({ wsUrl: textServer.wsUrl, settings: TEXT_SETTINGS, sessions: [{ items: [typed("Hello!")], offsetMs: 0 }], sessionPerItem: true, until: "complete", itemTimeoutMs: 60_000, deadlineS: 90 }, 120);

    // ---------------------------------------------------------------- memory with all models loaded
    const memory = tritonRssByModel(tritonPid);
    // The bench Triton also serves the bench-only instant models; Morgan's own are the rest.
    const morgans = Object.entries(memory).filter(([name]) => !name.startsWith("instant-"));
    const totalMiB = morgans.reduce((sum, [, mib]) => sum + mib, 0);
    rows.push({ figure: `tritonserver + Python stubs RSS, Morgan's models loaded (${morgans.map(([name]) => name).join(", ")}; after warm-up)`, load: "idle", unit: "MiB", value: round(totalMiB, 0) });
    for (const [name, mib] of Object.entries(memory).sort((a, b) => b[1] - a[1])) rows.push({ figure: name.startsWith("instant-") ? `  not counted: ${name} (bench-only)` : `  of which ${name}`, load: "idle", unit: "MiB", value: round(mib, 0) });
    plots.tritonMemoryMiB = memory;

    // ---------------------------------------------------------------- one session: WER, first audio
    log(`models: one session, ${oneSessionSet.length} utterances (a fresh session each)`);
    const metricsBefore = await readTritonMetrics(context.triton.ports.metrics);
    const cpuBefore = tritonCpuByModel(tritonPid);
    const single = await measured({ server: voiceServer.pid, triton: tritonPid }, () =>
      runSpoken({ wsUrl: voiceServer.wsUrl, settings: VOICE_SETTINGS, sessions: [{ items: oneSessionSet, offsetMs: 0 }], sessionPerItem: true, until: "complete", itemTimeoutMs: 40_000, deadlineS: 900 }, 960),
    );
    const cpuAfter = tritonCpuByModel(tritonPid);
    const metricsAfter = await readTritonMetrics(context.triton.ports.metrics);
    const turns = single.result.items;
    const load1 = "1 session";
    notes.push(...single.result.errors.map((e) => `one session: ${e}`));
    for (const item of turns) if (item.error) notes.push(`one session, "${item.reference}" (${item.voice}): ${item.error}`);

    const wer = corpusWer(turns);
    rows.push({ figure: "WER, whole two-voice set (final transcripts through Morgan)", load: `${turns.length} utterances`, unit: "", value: `${pct(wer.wer)} (${wer.errors} errors / ${wer.words} words)` });
    for (const voice of ["piper", "espeak"]) {
      const ofVoice = corpusWer(turns.filter((t) => t.voice === voice));
      rows.push({ figure: `  WER, ${voice} voice`, load: `${turns.filter((t) => t.voice === voice).length} utterances`, unit: "", value: `${pct(ofVoice.wer)} (${ofVoice.errors} / ${ofVoice.words})` });
    }
    const firstAudio = distribution(values(turns, (t) => t.firstAudioMs));
    rows.push({
      figure: "end of speech (last voiced chunk sent) → first response_audio, client",
      load: load1,
      unit: "ms",
      distribution: firstAudio,
      server: single.server,
      triton: single.triton,
    });
    for (const voice of ["piper", "espeak"]) {
      rows.push({ figure: `  first audio, ${voice} voice`, load: load1, unit: "ms", distribution: distribution(values(turns.filter((t) => t.voice === voice), (t) => t.firstAudioMs)) });
    }
    // Smart Turn cannot judge flat synthetic prosody: such turns end at the maximum wait (2 s by default).
    const atMaxWait = turns.filter((t) => (t.latency?.endpointing_ms ?? 0) >= 1900);
    rows.push({ figure: "turns ended by the maximum wait (server endpointing_ms ≥ 1.9 s) / turns", load: load1, unit: "turns", value: `${atMaxWait.length} / ${turns.length} (${atMaxWait.map((t) => t.voice).join(", ") || "none"})` });
    rows.push({ figure: "end of speech → vad_status speaking=false (end-of-turn decision), client", load: load1, unit: "ms", distribution: distribution(values(turns, (t) => t.endpointingMs)) });
    for (const stage of STAGES) rows.push({ figure: `server report: ${stage} (from its end of speech)`, load: load1, unit: "ms", distribution: distribution(values(turns, (t) => t.latency?.[stage])) });
    rows.push({ figure: "turns with a reply / said", load: load1, unit: "turns", value: `${values(turns, (t) => t.firstAudioMs).length} / ${oneSessionSet.length}` });

    // Per model, per voice turn: the Python stub's CPU (from /proc) and Triton's compute and queue time.
    const perModel = activity(metricsBefore, metricsAfter, Math.max(single.server.wallS, 1e-9));
    const turnCount = Math.max(1, turns.length);
    const models = [...new Set([...Object.keys(cpuAfter), ...perModel.map((m) => m.model)])].sort();
    const cpuPerTurn: Record<string, unknown> = {};
    for (const model of models) {
      const cpuS = (cpuAfter[model] ?? 0) - (cpuBefore[model] ?? 0);
      const m = perModel.find((p) => p.model === model);
      cpuPerTurn[model] = { cpuMs: round((cpuS * 1000) / turnCount, 0), requests: m && round(m.requests / turnCount, 1), computeMs: m && round((m.meanComputeMs * m.requests) / turnCount, 0), queueMs: m && round((m.meanQueueMs * m.requests) / turnCount, 0) };
      rows.push({
        figure: `${model}: CPU ms per voice turn (/proc) · requests · compute ms · queue ms per turn (Triton)`,
        load: load1,
        unit: "",
        value: m ? `${round((cpuS * 1000) / turnCount, 0)} · ${round(m.requests / turnCount, 1)} · ${round((m.meanComputeMs * m.requests) / turnCount, 0)} · ${round((m.meanQueueMs * m.requests) / turnCount, 0)}` : `${round((cpuS * 1000) / turnCount, 0)} · – · – · –`,
      });
    }
    plots.cpuPerTurn = cpuPerTurn;
    plots.oneSession = turns.map((t) => ({ voice: t.voice, reference: t.reference, transcript: t.transcript, firstAudioMs: t.firstAudioMs && round(t.firstAudioMs, 1), endpointingMs: t.endpointingMs && round(t.endpointingMs, 1), latency: t.latency, reply: t.reply }));

    if (turns.length > 0) {
      targets.push({ name: "WER over the two-voice set", goal: "≤ 8%", measured: pct(wer.wer), met: wer.wer <= TARGET.wer, note: `${pct(corpusWer(turns.filter((t) => t.voice === "espeak")).wer)} on espeak-ng, ${pct(corpusWer(turns.filter((t) => t.voice === "piper")).wer)} on Piper` });
    }
    if (firstAudio) {
      targets.push({ name: "end of speech → first audio, 1 session, p50", goal: "≤ 1.2 s", measured: `${round(firstAudio.p50, 0)} ms`, met: firstAudio.p50 <= TARGET.firstAudioP50 });
      targets.push({ name: "end of speech → first audio, 1 session, p95", goal: "≤ 1.8 s", measured: `${round(firstAudio.p95, 0)} ms`, met: firstAudio.p95 <= TARGET.firstAudioP95 });
    }

    // ---------------------------------------------------------------- follow-up turns
    const conversations = quick ? 1 : 3;
    const conversationTurns: SpokenItemResult[] = [];
    for (let c = 0; c < conversations; c++) {
      log(`models: 5-turn typed conversation ${c + 1}/${conversations}`);
      const run = await runSpoken({ wsUrl: textServer.wsUrl, settings: TEXT_SETTINGS, sessions: [{ items: CONVERSATION.map((text) => typed(text)), offsetMs: 0 }], sessionPerItem: false, until: "complete", itemTimeoutMs: 60_000, deadlineS: 400 }, 450);
      notes.push(...run.errors.map((e) => `conversation: ${e}`));
      conversationTurns.push(...run.items);
    }
    const followUps = conversationTurns.filter((t) => t.item > 0);
    const firstTurns = conversationTurns.filter((t) => t.item === 0);
    const followUpTtft = distribution(values(followUps, (t) => t.latency?.llm_first_token_ms));
    const loadC = `${conversations} conversation${conversations === 1 ? "" : "s"} × 5 turns`;
    rows.push({ figure: "LLM first token, follow-up turns 2–5 (server report, from the text's receipt)", load: loadC, unit: "ms", distribution: followUpTtft });
    rows.push({ figure: "LLM first token, first turn (server report)", load: loadC, unit: "ms", distribution: distribution(values(firstTurns, (t) => t.latency?.llm_first_token_ms)) });
    rows.push({ figure: "text sent → first response_text, follow-up turns, client", load: loadC, unit: "ms", distribution: distribution(values(followUps, (t) => t.firstTextMs)) });
    plots.conversation = conversationTurns.map((t) => ({ turn: t.item + 1, text: t.reference, reply: t.reply, llmFirstTokenMs: t.latency?.llm_first_token_ms ?? null }));
    if (followUpTtft) targets.push({ name: "LLM first token on a follow-up turn (5-turn conversation), p50", goal: "≤ 300 ms", measured: `${round(followUpTtft.p50, 0)} ms (p95 ${round(followUpTtft.p95, 0)})`, met: followUpTtft.p50 <= TARGET.followUpP50 });

    // ---------------------------------------------------------------- the 8 everyday questions
    log("models: the 8 everyday questions");
    const everyday = await runSpoken({ wsUrl: textServer.wsUrl, settings: TEXT_SETTINGS, sessions: [{ items: EVERYDAY_QUESTIONS.map((text) => typed(text)), offsetMs: 0 }], sessionPerItem: true, until: "complete", itemTimeoutMs: 60_000, deadlineS: 400 }, 450);
    notes.push(...everyday.errors.map((e) => `everyday questions: ${e}`));
    plots.everydayAnswers = everyday.items.map((t) => ({ question: t.reference, answer: t.reply, llmFirstTokenMs: t.latency?.llm_first_token_ms ?? null }));
    for (const t of everyday.items) rows.push({ figure: `Q: ${t.reference}`, load: "text, seed 7", unit: "", value: `A: ${(t.reply ?? t.error ?? "(no reply)").replace(/\s+/g, " ").replace(/\|/g, "/")}` });

    // ---------------------------------------------------------------- concurrent sessions on a rhythm
    const levels = quick ? [3] : [3, 4, 5];
    const perSession = quick ? 2 : 6;
    const concurrency: unknown[] = [];
    let breaksAt: number | undefined;
    for (const sessions of levels) {
      log(`models: ${sessions} sessions, each speaking every ${RHYTHM_MS / 1000} s (${perSession} utterances each)`);
      const scripts = Array.from({ length: sessions }, (_, s) => ({
        items: Array.from({ length: perSession }, (_, k) => speechSet[(s * perSession + k) % speechSet.length]!),
        // Evenly staggered: the sessions' questions interleave rather than all landing on one tick.
        offsetMs: Math.round((s * RHYTHM_MS) / sessions),
      }));
      const before = await readTritonMetrics(context.triton.ports.metrics);
      const started = performance.now();
      const run = await measured({ server: voiceServer.pid, triton: tritonPid }, () =>
        runSpoken({ wsUrl: voiceServer.wsUrl, settings: VOICE_SETTINGS, sessions: scripts, sessionPerItem: false, everyMs: RHYTHM_MS, until: "first_audio", itemTimeoutMs: 20_000, deadlineS: perSession * 10 + 60 }, perSession * 10 + 120),
      );
      const busy = activity(before, await readTritonMetrics(context.triton.ports.metrics), (performance.now() - started) / 1000);
      const items = run.result.items;
      notes.push(...run.result.errors.map((e) => `${sessions} sessions: ${e}`));
      const d = distribution(values(items, (t) => t.firstAudioMs));
      const load = `${sessions} sessions, every ${RHYTHM_MS / 1000} s`;
      const answered = values(items, (t) => t.firstAudioMs).length;
      rows.push({ figure: "end of speech → first response_audio, client", load, unit: "ms", distribution: d, server: run.server, triton: run.triton });
      rows.push({ figure: "end of speech → end-of-turn decision, client", load, unit: "ms", distribution: distribution(values(items, (t) => t.endpointingMs)) });
      rows.push({ figure: "utterances answered / said", load, unit: "turns", value: `${answered} / ${sessions * perSession}` });
      rows.push({ figure: "Triton busy (compute instance-seconds per s): " + busy.map((m) => m.model).join(" · "), load, unit: "", value: busy.map((m) => m.busy).join(" · ") });
      const ok = d !== null && d.p95 <= TARGET.concurrentP95 && answered === sessions * perSession;
      if (!ok && breaksAt === undefined) breaksAt = sessions;
      if (sessions === 3) {
        targets.push({ name: "3 sessions speaking every 10 s: end of speech → first audio p95", goal: "≤ 2.5 s", measured: d ? `${round(d.p95, 0)} ms (p50 ${round(d.p50, 0)}), ${answered}/${sessions * perSession} answered` : "no replies", met: ok });
      }
      concurrency.push({ sessions, firstAudioMs: sketch(values(items, (t) => t.firstAudioMs)), busy });
    }
    plots.concurrency = concurrency;
    notes.push(breaksAt === undefined ? `Concurrent sessions: p95 stayed ≤ 2.5 s with every reply, up to ${levels.at(-1)} sessions.` : `Concurrent sessions: first level past p95 2.5 s (or with unanswered turns): ${breaksAt} sessions.`);
  } finally {
    await voiceServer.stop();
    await textServer.stop();
  }
  return { rows, targets, notes, plots };
};
