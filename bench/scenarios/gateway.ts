/**
 * Scenario 1, gateway overhead: the same streamed request (a) straight to Triton through Morgan's
 * own adapters and (b) through Morgan, at 1 and 100 concurrent streams, in alternating rounds so
 * drift in the machine's load hits both paths alike. Reported as ratios (b)/(a) from the same run.
 *
 * LLM: (b) is a WebSocket text turn; time to the first response_text delta and the gaps between
 * deltas. That path also synthesises and paces the reply's audio (it is the real gateway), so
 * Triton's Flite competes with the LLM for the same 2 cores there and not in (a).
 * TTS: (b) is POST /v1/tts/generate/stream (SSE); time to the first audio event and the gaps.
 */
import { type MorganServer, startMorgan } from "../lib/environment";
import { measured } from "../lib/measure";
import type { ProcessUsage } from "../lib/procstat";
import type { BenchContext, Row, Scenario, Target } from "../lib/scenario";
import { difference, distribution, ratio, round, sketch } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import type { Job, LlmRequestSpec, StreamResult, TtsRequestSpec } from "../load/protocol";

const LLM_REQUEST: LlmRequestSpec = {
  userText: "What is the weather like today?",
  systemPrompt: "You are Morgan, a helpful voice assistant. Answer briefly.",
  maxTokens: 48,
  // Greedy decoding: both paths get the very same tokens, so their gaps compare like for like.
  temperature: 0,
};
const TTS_REQUEST: TtsRequestSpec = {
  text: "Your next meeting starts at three. It is with the design team. Bring the drawings.",
  voice: "kal",
  speed: 1,
};

interface PathRun {
  samples: StreamResult["samples"];
  errors: string[];
  requests: number;
  wallS: number;
  server: ProcessUsage[];
  triton: ProcessUsage[];
  clientCpuS: number;
}

function emptyRun(): PathRun {
  return { samples: [], errors: [], requests: 0, wallS: 0, server: [], triton: [], clientCpuS: 0 };
}

async function runPath(context: BenchContext, server: MorganServer, job: Job, into: PathRun): Promise<void> {
  const pids = { server: server.pid, triton: context.triton.pid() };
  const { result, server: serverUsage, triton } = await measured(pids, () => runWorkers<StreamResult>([job], 300));
  const [only] = result.results;
  into.clientCpuS += result.clientCpuS;
  into.samples.push(...only!.samples);
  into.errors.push(...only!.errors);
  into.requests += only!.samples.length;
  into.wallS += only!.wallS;
  into.server.push(serverUsage);
  if (triton) into.triton.push(triton);
}

/** Usage over several measured windows: CPU averaged by time, memory peak the highest. */
function combine(usages: ProcessUsage[]): ProcessUsage | undefined {
  if (usages.length === 0) return undefined;
  const wallS = usages.reduce((s, u) => s + u.wallS, 0);
  const cpuS = usages.reduce((s, u) => s + u.cpuS, 0);
  return {
    pid: usages[0]!.pid,
    wallS: round(wallS),
    cpuS: round(cpuS),
    cpuCores: round(cpuS / wallS),
    rssStartMiB: usages[0]!.rssStartMiB,
    rssEndMiB: usages.at(-1)!.rssEndMiB,
    rssPeakMiB: Math.max(...usages.map((u) => u.rssPeakMiB)),
  };
}

/**
 * Two diagnostic repeats of the LLM comparison, each against its own Morgan:
 *   LLM′  the reply's TTS model is the bench's instant-tts: how much of the overhead is running speech
 *         synthesis beside the reply (Flite on Triton, PCM conversion and pacing in Morgan);
 *   LLM″  Redis is unreachable, so session state and the per-message replay log live in the
 *         in-process fallback cache: how much is Redis traffic.
 * The targets are judged on LLM, the gateway as deployed.
 */
type Kind = "LLM" | "LLM′" | "LLM″" | "TTS";

/** Nothing listens here: Morgan starts on its in-process cache (src/storage's fallback). */
const UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0";

interface Comparison {
  kind: Kind;
  streams: number;
  direct: PathRun;
  gateway: PathRun;
}

function rowsFor(c: Comparison): Row[] {
  const load = `${c.streams} stream${c.streams === 1 ? "" : "s"}`;
  const llm = c.kind !== "TTS";
  const first = llm ? "time to first token" : "time to first audio chunk";
  const gap = llm ? "per-token gap" : "gap between chunks";
  const via = { LLM: "WebSocket", "LLM′": "WebSocket, reply TTS by instant-tts", "LLM″": "WebSocket, Redis unreachable", TTS: "SSE" }[c.kind];
  const rows: Row[] = [];
  for (const [label, run] of [["direct Triton (a)", c.direct], [`Morgan ${via} (b)`, c.gateway]] as const) {
    const throughput = { value: round(run.requests / Math.max(run.wallS, 1e-9)), unit: "req/s" };
    rows.push({ figure: `${c.kind} ${first}, ${label}`, load, unit: "ms", distribution: distribution(run.samples.map((s) => s.firstMs)), throughput, server: combine(run.server), triton: combine(run.triton), clientCpuCores: round(run.clientCpuS / Math.max(run.wallS, 1e-9)) });
    rows.push({ figure: `${c.kind} ${gap}, ${label}`, load, unit: "ms", distribution: distribution(run.samples.flatMap((s) => s.gapsMs)) });
  }
  const firstRatio = ratio(distribution(c.gateway.samples.map((s) => s.firstMs)), distribution(c.direct.samples.map((s) => s.firstMs)));
  const gapA = distribution(c.direct.samples.flatMap((s) => s.gapsMs));
  const gapB = distribution(c.gateway.samples.flatMap((s) => s.gapsMs));
  rows.push({ figure: `${c.kind} ${first} ratio (b)/(a)`, load, unit: "×", value: firstRatio ? `${firstRatio.p50} / ${firstRatio.p95} / ${firstRatio.p99}` : null });
  const added = difference(gapB, gapA);
  rows.push({ figure: `${c.kind} ${gap} added (b)−(a)`, load, unit: "ms", value: added ? `${added.p50} / ${added.p95} / ${added.p99}` : null });
  return rows;
}

export const gatewayOverhead: Scenario = async (context) => {
  const concurrency = context.quick ? [1, 20] : [1, 100];
  const rounds = context.quick ? 1 : 2;
  const server = await startMorgan({ tritonUrl: context.triton.grpcUrl, profileDir: context.profileDir && `${context.profileDir}/gateway` });
  const serverWithoutTts = await startMorgan({ tritonUrl: context.triton.grpcUrl, env: { MORGAN_TRITON_MODEL_TTS: "instant-tts" } });
  const serverWithoutRedis = await startMorgan({ tritonUrl: context.triton.grpcUrl, env: { REDIS_URL: UNREACHABLE_REDIS_URL } });
  const tritonUrl = context.triton.grpcUrl;
  const httpUrl = server.url;
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  try {
    const serverFor = (kind: Kind) => (kind === "LLM′" ? serverWithoutTts : kind === "LLM″" ? serverWithoutRedis : server);
    const jobsFor = (kind: Kind, streams: number, requestsPerStream: number): [Job, Job] => {
      const base = { streams, requestsPerStream, deadlineS: 120 };
      if (kind === "TTS") return [{ kind: "tts-direct", tritonUrl, model: "tts", request: TTS_REQUEST, ...base }, { kind: "tts-sse", httpUrl, request: TTS_REQUEST, ...base }];
      const wsUrl = serverFor(kind).wsUrl;
      return [{ kind: "llm-direct", tritonUrl, model: "llm", request: LLM_REQUEST, ...base }, { kind: "llm-ws", wsUrl, request: LLM_REQUEST, ...base }];
    };
    for (const kind of ["LLM", "LLM′", "LLM″", "TTS"] as const) {
      // Warm-up (not measured): first connections, JIT, model caches on both paths.
      for (const job of jobsFor(kind, 2, 2)) await runWorkers([job], 120);
      for (const streams of concurrency) {
        const comparison: Comparison = { kind, streams, direct: emptyRun(), gateway: emptyRun() };
        const perStream = streams === 1 ? (context.quick ? 10 : 20) : context.quick ? 2 : 3;
        for (let round = 0; round < rounds; round++) {
          const [direct, gateway] = jobsFor(kind, streams, perStream);
          context.log(`gateway: ${kind} ${streams} streams, round ${round + 1}/${rounds}`);
          await runPath(context, serverFor(kind), direct, comparison.direct);
          await runPath(context, serverFor(kind), gateway, comparison.gateway);
        }
        for (const run of [comparison.direct, comparison.gateway]) if (run.errors.length > 0) notes.push(`${kind} ${streams} streams: ${run.errors.length} failed requests, e.g. ${run.errors[0]}`);
        comparisons.push(comparison);
      }
    }
  } finally {
    await server.stop();
    await serverWithoutTts.stop();
    await serverWithoutRedis.stop();
  }

  const rows = comparisons.flatMap(rowsFor);
  const targets: Target[] = [];
  const top = Math.max(...concurrency);
  const llmTop = comparisons.find((c) => c.kind === "LLM" && c.streams === top);
  if (llmTop) {
    const ttft = ratio(distribution(llmTop.gateway.samples.map((s) => s.firstMs)), distribution(llmTop.direct.samples.map((s) => s.firstMs)));
    const added = difference(distribution(llmTop.gateway.samples.flatMap((s) => s.gapsMs)), distribution(llmTop.direct.samples.flatMap((s) => s.gapsMs)));
    if (ttft) targets.push({ name: `LLM TTFT ratio (b)/(a) at ${top} streams`, goal: "≤ 1.05 (p50)", measured: `p50 ${ttft.p50}, p95 ${ttft.p95}, p99 ${ttft.p99}`, met: ttft.p50 <= 1.05 });
    if (added) targets.push({ name: `LLM added per-token latency p99 at ${top} streams`, goal: "< 1 ms", measured: `${added.p99} ms (p50 ${added.p50}, p95 ${added.p95})`, met: added.p99 < 1 });
  }
  const plots = {
    comparisons: comparisons.map((c) => ({
      kind: c.kind,
      streams: c.streams,
      directFirstMs: sketch(c.direct.samples.map((s) => s.firstMs)),
      gatewayFirstMs: sketch(c.gateway.samples.map((s) => s.firstMs)),
      directGapMs: sketch(c.direct.samples.flatMap((s) => s.gapsMs)),
      gatewayGapMs: sketch(c.gateway.samples.flatMap((s) => s.gapsMs)),
    })),
  };
  return { rows, targets, notes, plots };
};
