/**
 * Scenario 4, control-message throughput through one Morgan server: pings, config changes and small
 * text turns from several connections at once, each keeping a window of messages in flight. Morgan
 * runs on the bench-only instant models (instant-llm answers one fixed delta at once, instant-tts a
 * fixed 20 ms of silence), so a text turn costs the gateway's work (parsing, storage, framing) and
 * not a model's; pings and config changes use no model at all.
 */
import { startMorgan } from "../lib/environment";
import { measured } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { distribution, round } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import type { FloodResult, Job } from "../load/protocol";

const TARGET_PER_S = 10_000;

interface Variant {
  message: "ping" | "config" | "text";
  workers: number;
  connections: number;
  window: number;
  /**
   * Diagnostic, not a target: a second server whose Redis is unreachable, so session state and the
   * per-message replay log go to the in-process fallback cache. The difference to the same message
   * kind with Redis is what the Redis writes on every message cost.
   */
  withoutRedis?: boolean;
}

/** Nothing listens here: Morgan starts on its in-process cache (src/storage's fallback). */
const UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0";

export const messageThroughput: Scenario = async (context) => {
  const durationS = context.quick ? 4 : 10;
  const variants: Variant[] = [
    { message: "ping", workers: 2, connections: 8, window: 32 },
    { message: "config", workers: 2, connections: 8, window: 32 },
    { message: "text", workers: 2, connections: 25, window: 1 },
    { message: "ping", workers: 2, connections: 8, window: 32, withoutRedis: true },
  ];
  const server = await startMorgan({
    tritonUrl: context.triton.grpcUrl,
    env: { MORGAN_TRITON_MODEL_LLM: "instant-llm", MORGAN_TRITON_MODEL_TTS: "instant-tts" },
    profileDir: context.profileDir && `${context.profileDir}/throughput`,
  });
  const serverWithoutRedis = await startMorgan({
    tritonUrl: context.triton.grpcUrl,
    env: { MORGAN_TRITON_MODEL_LLM: "instant-llm", MORGAN_TRITON_MODEL_TTS: "instant-tts", REDIS_URL: UNREACHABLE_REDIS_URL },
  });
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const plots: Record<string, unknown> = { variants: [] as unknown[] };
  try {
    const serverFor = (v: Variant) => (v.withoutRedis ? serverWithoutRedis : server);
    const jobsFor = (v: Variant, seconds: number): Job[] =>
      Array.from({ length: v.workers }, () => ({ kind: "flood", wsUrl: serverFor(v).wsUrl, connections: v.connections, window: v.window, durationS: seconds, message: v.message, text: "hello there" }));
    // Warm-up (not measured): JIT and first connections.
    for (const v of variants) await runWorkers<FloodResult>(jobsFor(v, 1), 60);
    for (const v of variants) {
      context.log(`throughput: ${v.message}${v.withoutRedis ? " (Redis unreachable)" : ""}, ${v.workers}×${v.connections} connections, window ${v.window}, ${durationS} s`);
      const run = await measured({ server: serverFor(v).pid, triton: context.triton.pid() }, () => runWorkers<FloodResult>(jobsFor(v, durationS), durationS + 60));
      const answered = run.result.results.reduce((s, r) => s + r.answered, 0);
      const wallS = Math.max(...run.result.results.map((r) => r.wallS));
      const rate = round(answered / wallS, 0);
      const errors = run.result.results.flatMap((r) => r.errors);
      const unit = v.message === "text" ? "text turns/s" : "messages/s";
      rows.push({
        figure: `${v.message}: round trip (sent → ${v.message === "text" ? "response_complete" : "pong"})${v.withoutRedis ? ", diagnostic: Redis unreachable, in-process cache" : ""}`,
        load: `${v.workers * v.connections} connections × window ${v.window}`,
        unit: "ms",
        distribution: distribution(run.result.results.flatMap((r) => r.roundTripMs)),
        throughput: { value: rate, unit },
        server: run.server,
        triton: run.triton,
        clientCpuCores: round(run.result.clientCpuS / run.server.wallS),
      });
      if (errors.length > 0) notes.push(`${v.message}: ${errors.length} error messages, e.g. ${errors[0]}`);
      (plots.variants as unknown[]).push({ message: v.withoutRedis ? `${v.message} (no Redis)` : v.message, rate, serverCpuCores: run.server.cpuCores });
      if (v.message !== "text" && !v.withoutRedis) {
        targets.push({ name: `${v.message} messages per second through one server`, goal: `≥ ${TARGET_PER_S}/s`, measured: `${rate}/s (server CPU ${run.server.cpuCores} cores)`, met: rate >= TARGET_PER_S });
      }
    }
  } finally {
    await server.stop();
    await serverWithoutRedis.stop();
  }
  return { rows, targets, notes, plots };
};
