/**
 * Scenario 6, what telemetry costs: the same load against a Morgan with metrics and tracing on
 * (Prometheus scraping /metrics every 5 s, every turn traced and exported over OTLP/HTTP to a span
 * sink in this process) and a Morgan with both off (MORGAN_METRICS_ENABLED=false, no OTEL_*), in
 * alternating rounds of one run, so both see the same machine.
 *
 * - throughput: text turns and pings on the instant models (the gateway's own work per message);
 * - voice: real-time spoken turns on the CPU models, three sessions at once.
 *
 * The figure is the server's CPU per turn (or per message), on ÷ off, from the summed rounds. A voice
 * turn's CPU grows with its length (the microphone streams until the reply ends), so voice turns are
 * also compared per 20 ms of audio received. Beside the end-to-end rounds, which the machine's other
 * load makes noisy, the telemetry work itself is timed in this process: a voice turn's observations
 * (every hop between stages, every message, every model call) through the seam with and without the
 * metrics and tracing observers.
 */
import { startMorgan, type MorganServer } from "../lib/environment";
import { measured } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { distribution, round } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import type { FloodResult, Job, VoiceResult } from "../load/protocol";
import type { PipelineEvent } from "../../src/pipeline/events";
import { SessionObserver } from "../../src/pipeline/session-observer";
import { Turn } from "../../src/pipeline/turn-taking/turn";
import { Observers } from "../../src/telemetry/events";
import { MetricsObserver } from "../../src/telemetry/metrics";
import { startTracing } from "../../src/telemetry/tracing";

const TARGET_OVERHEAD = 0.03;
const QUESTIONS = ["what is the weather like today", "please turn off the lights in the kitchen", "what time is it in new york"];
const OFF = { MORGAN_METRICS_ENABLED: "false" };

interface Workload {
  name: string;
  unit: string;
  /** Runs one round against `server`; resolves with the units of work done and their latencies. */
  round(server: MorganServer): Promise<{ done: number; audioChunks?: number; latenciesMs: number[]; errors: string[] }>;
}

interface Tally {
  done: number;
  audioChunks: number;
  cpuS: number;
  wallS: number;
  latenciesMs: number[];
  errors: string[];
}

/** Receives OTLP/HTTP exports and counts the spans, as a collector would accept them. */
function spanSink() {
  let spans = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = (await request.json()) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
      for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans += scope.spans.length;
      return Response.json({});
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, spans: () => spans, stop: () => server.stop(true) };
}

/** Prometheus's side of metrics: a scrape every 5 s while the load runs. */
function scraper(url: string) {
  let scrapes = 0;
  const timer = setInterval(() => {
    void fetch(`${url}/metrics`).then(async (r) => {
      await r.text();
      scrapes += 1;
    });
  }, 5_000);
  return {
    stop: () => {
      clearInterval(timer);
      return scrapes;
    },
  };
}

export const telemetryCost: Scenario = async (context) => {
  const rounds = context.quick ? 1 : 3;
  const floodS = context.quick ? 4 : 10;
  const sink = spanSink();
  const instant = { MORGAN_TRITON_MODEL_LLM: "instant-llm", MORGAN_TRITON_MODEL_TTS: "instant-tts" };
  const on = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: "1000" };
  const start = (env: Record<string, string>) => startMorgan({ tritonUrl: context.triton.grpcUrl, env });
  const servers = {
    instant: { on: await start({ ...instant, ...on }), off: await start({ ...instant, ...OFF }) },
    voice: { on: await start(on), off: await start(OFF) },
  };
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const plots: Record<string, unknown> = { workloads: [] as unknown[] };

  const flood = (message: "text" | "ping", connections: number, window: number): Workload => ({
    name: message === "text" ? "text turns (instant models)" : "pings",
    unit: message === "text" ? "turns" : "messages",
    async round(server) {
      const jobs: Job[] = Array.from({ length: 2 }, () => ({ kind: "flood", wsUrl: server.wsUrl, connections, window, durationS: floodS, message, text: "hello there" }));
      const { results } = await runWorkers<FloodResult>(jobs, floodS + 60);
      return { done: results.reduce((s, r) => s + r.answered, 0), latenciesMs: results.flatMap((r) => r.roundTripMs), errors: results.flatMap((r) => r.errors) };
    },
  });
  const voice: Workload = {
    name: "voice turns (CPU models, 3 sessions)",
    unit: "turns",
    async round(server) {
      // Few enough sessions that the CPU models keep up on two cores (more only queue at Triton).
      const job: Job = { kind: "voice-turns", wsUrl: server.wsUrl, sessions: 3, questions: QUESTIONS, trailingSilenceMs: 1500, rampMs: 300, deadlineS: 150 };
      const { results } = await runWorkers<VoiceResult>([job], 200);
      const samples = results.flatMap((r) => r.samples);
      return {
        done: samples.length,
        audioChunks: samples.reduce((sum, s) => sum + s.audioChunks, 0),
        latenciesMs: samples.map((s) => s.endOfSpeechToAudioMs).filter((v): v is number => v !== null),
        errors: results.flatMap((r) => r.errors),
      };
    },
  };

  const offCpuPerTurnMs = { voice: 0, text: 0 };
  try {
    const workloads: [Workload, { on: MorganServer; off: MorganServer }][] = [
      [flood("text", 25, 1), servers.instant],
      [flood("ping", 8, 32), servers.instant],
      [voice, servers.voice],
    ];
    // Warm-up (not measured): JIT, first connections, first turns on each server.
    for (const [workload, pair] of workloads) for (const server of [pair.off, pair.on]) await workload.round(server);
    for (const [workload, pair] of workloads) {
      const tally: Record<"on" | "off", Tally> = { on: empty(), off: empty() };
      const scrapes = scraper(pair.on.url);
      const spansBefore = sink.spans();
      for (let i = 0; i < rounds; i++) {
        // Alternate which goes first, so a trend in the machine's load falls on both alike.
        for (const mode of i % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
          context.log(`telemetry: ${workload.name}, telemetry ${mode}, round ${i + 1}/${rounds}`);
          const run = await measured({ server: pair[mode].pid }, () => workload.round(pair[mode]));
          const t = tally[mode];
          t.done += run.result.done;
          t.audioChunks += run.result.audioChunks ?? 0;
          t.cpuS += run.server.cpuS;
          t.wallS += run.server.wallS;
          // Hundreds of thousands of ping round trips: no spread into push (the call stack limits it).
          for (const ms of run.result.latenciesMs) t.latenciesMs.push(ms);
          t.errors.push(...run.result.errors.slice(0, 20));
        }
      }
      const scraped = scrapes.stop();
      const perUnitMs = (t: Tally) => (t.cpuS * 1000) / Math.max(t.done, 1);
      const ratio = perUnitMs(tally.on) / perUnitMs(tally.off);
      const throughputRatio = tally.on.done / tally.on.wallS / (tally.off.done / tally.off.wallS);
      for (const mode of ["off", "on"] as const) {
        const t = tally[mode];
        rows.push({
          figure: `${workload.name}: server CPU per ${workload.unit.replace(/s$/, "")}, telemetry ${mode}`,
          load: `${rounds} rounds`,
          unit: "ms CPU",
          value: round(perUnitMs(t), 3),
          throughput: { value: round(t.done / t.wallS, 1), unit: `${workload.unit}/s` },
        });
        rows.push({ figure: `${workload.name}: latency, telemetry ${mode}`, load: `${t.done} ${workload.unit}`, unit: "ms", distribution: distribution(t.latenciesMs) });
        if (t.errors.length > 0) notes.push(`${workload.name}, telemetry ${mode}: ${t.errors.length} errors, e.g. ${t.errors[0]}`);
      }
      rows.push({ figure: `${workload.name}: CPU per ${workload.unit.replace(/s$/, "")} on ÷ off · throughput on ÷ off`, load: "same run", unit: "ratio", value: `${round(ratio, 3)} · ${round(throughputRatio, 3)}` });
      notes.push(`${workload.name}: ${scraped} scrapes of /metrics and ${sink.spans() - spansBefore} spans exported during the rounds with telemetry on`);
      if (tally.on.audioChunks > 0) {
        const perChunkMs = (t: Tally) => (t.cpuS * 1000) / t.audioChunks;
        const chunkRatio = perChunkMs(tally.on) / perChunkMs(tally.off);
        rows.push({
          figure: `${workload.name}: server CPU per 20 ms of audio received, on ÷ off (turns normalised to equal audio)`,
          load: `${tally.off.audioChunks} / ${tally.on.audioChunks} chunks`,
          unit: "ratio",
          value: `${round(chunkRatio, 3)} (${round(perChunkMs(tally.on), 3)} vs ${round(perChunkMs(tally.off), 3)} ms)`,
        });
        targets.push({
          name: `telemetry cost, ${workload.name}: server CPU per turn at equal audio (per 20 ms chunk), on ÷ off`,
          goal: `< ${1 + TARGET_OVERHEAD}`,
          measured: `${round(chunkRatio, 3)}`,
          met: chunkRatio < 1 + TARGET_OVERHEAD,
        });
      } else if (workload.unit === "turns") {
        targets.push({
          name: `telemetry cost, ${workload.name}: server CPU per turn, on ÷ off`,
          goal: `< ${1 + TARGET_OVERHEAD}`,
          measured: `${round(ratio, 3)} (${round(perUnitMs(tally.on), 2)} vs ${round(perUnitMs(tally.off), 2)} ms CPU per turn)`,
          met: ratio < 1 + TARGET_OVERHEAD,
        });
      }
      (plots.workloads as unknown[]).push({ name: workload.name, ratio, throughputRatio, on: perUnitMs(tally.on), off: perUnitMs(tally.off) });
      offCpuPerTurnMs[workload === voice ? "voice" : "text"] ||= workload.unit === "turns" ? perUnitMs(tally.off) : 0;
    }
    for (const source of ["voice", "text"] as const) {
      const work = await timeTelemetryWork(context.quick ? 200 : 2000, source);
      rows.push({
        figure: `in process: the telemetry work of one ${source} turn (observations through metrics and tracing, spans exported over OTLP/HTTP) − the same without observers`,
        load: `${work.hops} hops, ${work.messages} messages, ${work.calls} model calls per turn`,
        unit: "µs",
        value: round(work.perTurnUs, 1),
      });
      const offMs = offCpuPerTurnMs[source];
      if (offMs > 0) {
        const share = work.perTurnUs / 1000 / offMs;
        targets.push({
          name: `telemetry cost, in process: telemetry work of a ${source} turn ÷ the server's CPU per ${source} turn with telemetry off (${source === "voice" ? "CPU models" : "instant models"})`,
          goal: `< ${TARGET_OVERHEAD * 100}%`,
          measured: `${round(share * 100, 3)}% (${round(work.perTurnUs, 1)} µs of ${round(offMs, 2)} ms)`,
          met: share < TARGET_OVERHEAD,
        });
      }
    }
  } finally {
    for (const pair of Object.values(servers)) for (const server of [pair.on, pair.off]) await server.stop();
    sink.stop();
  }
  return { rows, targets, notes, plots };
};

function empty(): Tally {
  return { done: 0, audioChunks: 0, cpuS: 0, wallS: 0, latenciesMs: [], errors: [] };
}

const CHAIN = ["turn-taking", "conversation", "llm", "sentences", "tts"];

/** A span sink in a process of its own, so receiving the spans is not counted as exporting them. */
async function separateSink(): Promise<{ url: string; stop: () => void }> {
  const code = `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", async fetch(r) { await r.arrayBuffer(); return Response.json({}); } }); console.log(s.port);`;
  const child = Bun.spawn(["bun", "-e", code], { stdout: "pipe" });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { url: `http://127.0.0.1:${new TextDecoder().decode(value).trim()}`, stop: () => child.kill() };
}

/**
 * Times the observations of one voice turn (5 s of microphone audio, partial transcripts, a reply of
 * 20 deltas in 3 sentences, its messages and model calls) through the session observer and the seam,
 * with Prometheus and tracing observing (spans built and exported over OTLP/HTTP to a sink in another
 * process), minus the same with nobody observing. Microseconds of CPU per turn, in this process.
 */
async function timeTelemetryWork(turns: number, source: "voice" | "text"): Promise<{ perTurnUs: number; hops: number; messages: number; calls: number }> {
  const sink = await separateSink();
  const observed = new Observers();
  observed.add(new MetricsObserver(observed));
  const tracing = startTracing({ serviceName: "bench", serviceVersion: "0", sampler: "always_on", samplerRatio: 1, batchDelayMs: 200, exporter: { url: `${sink.url}/v1/traces` } });
  observed.add(tracing.observer);
  let counts = { hops: 0, messages: 0, calls: 0 };
  const oneTurn = (observers: Observers, sessionId: string) => {
    counts = { hops: 0, messages: 0, calls: 0 };
    const session = new SessionObserver(observers, { sessionId, conversationId: "c" });
    const travel = (stage: string, event: PipelineEvent) => {
      for (let i = CHAIN.indexOf(stage); i < CHAIN.length; i++, counts.hops++) session.hop(CHAIN[i]!, CHAIN[i + 1] ?? "output", i + 1, event);
    };
    const message = (type: "message_received" | "message_sent") => {
      counts.messages += 1;
      observers.observe(type === "message_sent" ? { type } : { type, messageType: "audio" });
    };
    const call = (role: "vad" | "stt" | "turn" | "llm" | "tts", firstResultMs?: number) => {
      counts.calls += 1;
      observers.observe({ type: "model_call", role, model: role, outcome: "ok", durationMs: 3, firstResultMs });
    };
    const samples = new Float32Array(320);
    if (source === "text") {
      message("message_received");
      session.hop("input", "turn-taking", 0, { kind: "user_text", text: "hello", at: 0 });
    }
    for (let chunk = 0; chunk < (source === "voice" ? 250 : 0); chunk++) {
      message("message_received");
      session.hop("input", "turn-taking", 0, { kind: "audio", samples, receivedAt: 0 });
      if (chunk % 5 === 0) call("vad");
      if (chunk === 20) travel("turn-taking", { kind: "speech_started", at: 0 });
      if (chunk > 20 && chunk % 10 === 0 && chunk < 150) travel("turn-taking", { kind: "transcript", transcript: { text: "partial", isFinal: false, confidence: 0 }, audioMs: 0 });
      if (chunk === 150) {
        call("turn");
        travel("turn-taking", { kind: "speech_stopped", at: 0, speechEndedAt: 0, reason: "model" });
      }
    }
    if (source === "voice") {
      call("stt");
      travel("turn-taking", { kind: "transcript", transcript: { text: "final", isFinal: true, confidence: 1 }, audioMs: 2600 });
    }
    const turn = new Turn(source, "final", performance.now(), 500);
    travel("turn-taking", { kind: "user_turn", turn });
    travel("conversation", { kind: "turn_started", turn, messages: [], userMessageStored: Promise.resolve() });
    for (let i = 0; i < 20; i++) {
      travel("llm", { kind: "llm_delta", turn, text: "word " });
      message("message_sent");
      if (i % 7 === 6) travel("sentences", { kind: "sentence", turn, index: i, text: "a sentence." });
    }
    call("llm", 40);
    travel("llm", { kind: "llm_done", turn });
    for (let i = 0; i < 3; i++) {
      call("tts", 20);
      travel("tts", { kind: "tts_audio", turn, index: i, text: "a sentence.", samples, sampleRate: 16000, cached: false });
      for (let m = 0; m < 4; m++) message("message_sent");
    }
    travel("tts", { kind: "tts_done", turn });
    turn.finish("complete");
    session.sent({ type: "response_complete", data: { turn_id: turn.id, text: "t", latency: turn.latency(), cached_audio: false } });
    observers.observe({ type: "session_closed", sessionId, status: "completed" });
  };
  const time = async (observers: Observers, flush: () => Promise<void>) => {
    for (let i = 0; i < 50; i++) oneTurn(observers, `warm-${i}`);
    // The warm-up's spans leave in the exporter's next batch (200 ms), before the measurement.
    await Bun.sleep(500);
    const started = process.cpuUsage();
    for (let i = 0; i < turns; i++) {
      oneTurn(observers, `s-${i}`);
      // Turns arrive over time, and the exporter sends batches between them.
      if (i % 50 === 49) await Bun.sleep(1);
    }
    await flush();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / turns;
  };
  try {
    const bare = await time(new Observers(), async () => {});
    const withTelemetry = await time(observed, () => tracing.shutdown());
    return { perTurnUs: withTelemetry - bare, ...counts };
  } finally {
    sink.stop();
  }
}
