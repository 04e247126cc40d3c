/**
 * Scenario 2, voice turns: Flite-spoken questions streamed in real time (20 ms chunks) by 1, 10, 50
 * and 100 concurrent sessions. Per stage, the server's own latency report (response_complete, ms from
 * the VAD's end-of-speech decision) and, on the client's clock, end of speech (vad_status
 * speaking=false) → first response_audio and final transcript → first response_text.
 */
import { startMorgan } from "../lib/environment";
import { activity, readTritonMetrics } from "../lib/triton-metrics";
import { measured, shares } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { distribution, round, sketch } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import type { VoiceResult, VoiceTurnSample } from "../load/protocol";

/** Short questions PocketSphinx transcribes reliably from Flite's voice. */
const QUESTIONS = ["what is the weather like today", "please turn off the lights in the kitchen", "what time is it in new york"];
/** Sessions per load-generator process: 100 real-time audio streams are spread over two. */
const SESSIONS_PER_WORKER = 50;

const STAGES = ["stt_final_ms", "llm_first_token_ms", "first_sentence_ms", "tts_first_chunk_ms", "last_chunk_ms", "vad_silence_wait_ms"] as const;

export const voiceTurns: Scenario = async (context) => {
  const levels = context.voiceLevels ?? (context.quick ? [1, 10] : [1, 10, 50, 100]);
  /** Rounds per level, so the single-session figures rest on more than one turn. */
  const rounds = (sessions: number) => (sessions === 1 ? (context.quick ? 3 : 10) : sessions === 10 ? (context.quick ? 1 : 3) : 1);
  const server = await startMorgan({ tritonUrl: context.triton.grpcUrl, profileDir: context.profileDir && `${context.profileDir}/voice` });
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const plots: Record<string, unknown> = { levels: [] as unknown[] };
  try {
    // Warm-up turn (not measured).
    await runWorkers<VoiceResult>([{ kind: "voice-turns", wsUrl: server.wsUrl, sessions: 1, questions: QUESTIONS, trailingSilenceMs: 1500, rampMs: 0, deadlineS: 60 }], 120);
    for (const sessions of levels) {
      const samples: VoiceTurnSample[] = [];
      const errors: string[] = [];
      let wallS = 0;
      let clientCpuS = 0;
      const usages = [];
      const metricsBefore = await readTritonMetrics(context.triton.ports.metrics);
      const levelStarted = performance.now();
      for (let round = 0; round < rounds(sessions); round++) {
        context.log(`voice: ${sessions} sessions, round ${round + 1}/${rounds(sessions)}`);
        const jobs = shares(sessions, Math.ceil(sessions / SESSIONS_PER_WORKER)).map((count) => ({
          kind: "voice-turns" as const,
          wsUrl: server.wsUrl,
          sessions: count,
          questions: QUESTIONS,
          trailingSilenceMs: 1500,
          // Users do not all start speaking on the same 20 ms tick: starts spread over up to 2 s.
          rampMs: Math.min(2000, sessions * 20),
          deadlineS: 150,
        }));
        const run = await measured({ server: server.pid, triton: context.triton.pid() }, () => runWorkers<VoiceResult>(jobs, 200));
        clientCpuS += run.result.clientCpuS;
        for (const r of run.result.results) {
          samples.push(...r.samples);
          errors.push(...r.errors);
          wallS = Math.max(wallS, r.wallS);
        }
        usages.push(run);
      }
      const models = activity(metricsBefore, await readTritonMetrics(context.triton.ports.metrics), (performance.now() - levelStarted) / 1000);
      const load = `${sessions} session${sessions === 1 ? "" : "s"}`;
      const attempted = sessions * rounds(sessions);
      const last = usages.at(-1)!;
      const ofStage = (stage: (typeof STAGES)[number]) => samples.map((s) => s.latency?.[stage]).filter((v): v is number => typeof v === "number");
      const endToAudio = samples.map((s) => s.endOfSpeechToAudioMs).filter((v): v is number => v !== null);
      const transcriptToText = samples.map((s) => s.finalTranscriptToTextMs).filter((v): v is number => v !== null);
      const serverTextAfterTranscript = samples
        .map((s) => (s.latency?.llm_first_token_ms ?? null) !== null && (s.latency?.stt_final_ms ?? null) !== null ? s.latency!.llm_first_token_ms! - s.latency!.stt_final_ms! : null)
        .filter((v): v is number => v !== null);
      rows.push({
        figure: "end of speech (vad_status false) → first response_audio, client",
        load,
        unit: "ms",
        distribution: distribution(endToAudio),
        throughput: { value: round(samples.length / Math.max(wallS, 1e-9), 2), unit: "turns/s" },
        server: last.server,
        triton: last.triton,
        clientCpuCores: round(clientCpuS / Math.max(usages.reduce((s, u) => s + u.server.wallS, 0), 1e-9)),
      });
      rows.push({ figure: "final transcript → first response_text, client", load, unit: "ms", distribution: distribution(transcriptToText) });
      for (const stage of STAGES) rows.push({ figure: `server report: ${stage}`, load, unit: "ms", distribution: distribution(ofStage(stage)) });
      rows.push({ figure: "server report: llm_first_token − stt_final", load, unit: "ms", distribution: distribution(serverTextAfterTranscript) });
      rows.push({ figure: "turns completed / attempted", load, unit: "turns", value: `${samples.length} / ${attempted}` });
      for (const m of models) {
        rows.push({
          figure: `Triton ${m.model}: requests/s · batch · mean queue ms · mean compute ms/request · busy (instance-seconds per s)`,
          load,
          unit: "",
          value: `${m.requestsPerS} · ${m.batch} · ${m.meanQueueMs} · ${m.meanComputeMs} · ${m.busy}`,
        });
      }
      if (errors.length > 0) notes.push(`${load}: ${errors.length} turns failed, e.g. ${errors[0]}`);
      const empty = samples.filter((s) => s.transcript.trim() === "").length;
      if (empty > 0) notes.push(`${load}: ${empty} turns had an empty final transcript`);
      (plots.levels as unknown[]).push({ sessions, models, endToAudioMs: sketch(endToAudio), ttsFirstChunkMs: sketch(ofStage("tts_first_chunk_ms")), sttFinalMs: sketch(ofStage("stt_final_ms")), llmFirstTokenMs: sketch(ofStage("llm_first_token_ms")) });

      const d = distribution(endToAudio);
      const serverFirstAudio = distribution(ofStage("tts_first_chunk_ms"));
      if (sessions === 1 && serverFirstAudio) {
        targets.push({ name: "issue 6: end of speech → first audio p50 (1 session, server report tts_first_chunk_ms)", goal: "< 300 ms", measured: `${serverFirstAudio.p50} ms`, met: serverFirstAudio.p50 < 300 });
        targets.push({ name: "issue 6: end of speech → first audio p95 (1 session, server report)", goal: "< 500 ms", measured: `${serverFirstAudio.p95} ms`, met: serverFirstAudio.p95 < 500 });
        const textGap = distribution(transcriptToText);
        if (textGap) targets.push({ name: "issue 6: final transcript → first response_text p50 (1 session, client)", goal: "< 150 ms", measured: `p50 ${textGap.p50} ms, p95 ${textGap.p95} ms`, met: textGap.p50 < 150 });
      }
      if (sessions === 10 && d) {
        targets.push({ name: "issue 7: end of speech → first audio p95 at 10 sessions (client)", goal: "< 800 ms", measured: `${d.p95} ms (p50 ${d.p50})`, met: d.p95 < 800 && samples.length === attempted });
      }
    }
  } finally {
    await server.stop();
  }
  return { rows, targets, notes, plots };
};
