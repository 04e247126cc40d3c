/**
 * Scenario 11, flood (issue 12): one session sends 5,000 texts at once while another session pings
 * every 20 ms and takes text turns; each from its own worker process. Run twice on one bench
 * Triton: with the default quotas (a flood is shed at its source: rate_limited) and with the quotas
 * lifted (the bench's usual settings), which shows what the flood costs everyone else without them.
 * Target: the other session's ping p95 under 50 ms during the flood, and its turns complete.
 * Morgan runs on the bench-only instant models, so a turn costs the gateway's work, not a model's.
 */
import { quotasSection } from "../../src/config/sections/quotas";
import { BENCH_QUOTAS, startMorgan } from "../lib/environment";
import { measured } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { distribution, round } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import type { Job, PingWatchResult, TextFloodResult } from "../load/protocol";

const TEXTS = 5000;
const INSTANT = { MORGAN_TRITON_MODEL_LLM: "instant-llm", MORGAN_TRITON_MODEL_TTS: "instant-tts" };

/** The quotas as shipped: the section's defaults, set explicitly over the bench's lifted ones. */
function defaultQuotas(): Record<string, string> {
  const defaults = quotasSection.schema.parse({}) as Record<string, number>;
  return Object.fromEntries(Object.entries(quotasSection.env).map(([variable, key]) => [variable, String(defaults[key])]));
}

export const floodScenario: Scenario = async (context) => {
  const durationS = context.quick ? 12 : 25;
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const plots: Record<string, unknown> = {};
  for (const variant of [
    { name: "default quotas", env: { ...INSTANT, ...defaultQuotas() } },
    { name: "quotas lifted", env: { ...INSTANT, ...BENCH_QUOTAS } },
  ]) {
    const server = await startMorgan({ tritonUrl: context.triton.grpcUrl, env: variant.env });
    try {
      context.log(`flood (${variant.name}): ${TEXTS} texts from one session, pings every 20 ms and turns from another, ${durationS} s`);
      const jobs: Job[] = [
        { kind: "ping-watch", wsUrl: server.wsUrl, durationS, intervalMs: 20, text: "hello there", turnGapMs: 600, turnTimeoutMs: 20_000 },
        { kind: "text-flood", wsUrl: server.wsUrl, texts: TEXTS, text: "hello there", delayMs: 3000, answerTimeoutMs: (durationS - 5) * 1000 },
      ];
      const run = await measured({ server: server.pid, triton: context.triton.pid() }, () => runWorkers<PingWatchResult | TextFloodResult>(jobs, durationS + 90));
      const [watch, flood] = run.result.results as [PingWatchResult, TextFloodResult];
      // From the first text to 1 s after the later of its last answer and 5 s: a flood shed in a few
      // hundred ms is measured over its aftermath too, not only over its own short life.
      const floodEnd = flood.startedAt + Math.max(flood.answeredMs, 5000);
      const during = watch.pings.filter((p) => p.sentAt >= flood.startedAt && p.sentAt <= floodEnd + 1000);
      const before = watch.pings.filter((p) => p.sentAt < flood.startedAt);
      const lost = during.filter((p) => p.rttMs === null).length;
      const rtt = distribution(during.flatMap((p) => (p.rttMs === null ? [] : [p.rttMs])));
      const turnsDuring = watch.turns.filter((t) => t.sentAt >= flood.startedAt && t.sentAt <= floodEnd + 1000);
      const completed = turnsDuring.filter((t) => t.ms !== null).length;
      rows.push({
        figure: `other session's ping round trip before the flood (${variant.name})`,
        load: "1 session, ping every 20 ms",
        unit: "ms",
        distribution: distribution(before.flatMap((p) => (p.rttMs === null ? [] : [p.rttMs]))),
      });
      rows.push({
        figure: `other session's ping round trip during the flood (${variant.name})`,
        load: `${TEXTS} texts at once from another session`,
        unit: "ms",
        distribution: rtt,
        server: run.server,
        triton: run.triton,
        clientCpuCores: round(run.result.clientCpuS / run.server.wallS),
      });
      rows.push({
        figure: `other session's text turns during the flood, sent → response_complete (${variant.name})`,
        load: `${TEXTS} texts at once from another session`,
        unit: "ms",
        distribution: distribution(turnsDuring.flatMap((t) => (t.ms === null ? [] : [t.ms]))),
      });
      rows.push({ figure: `flood: texts refused with rate_limited (${variant.name})`, load: `${TEXTS} texts`, unit: "texts", value: flood.rateLimited });
      rows.push({ figure: `flood: texts taken as turns (completed or interrupted by the next) (${variant.name})`, load: `${TEXTS} texts`, unit: "texts", value: flood.completed + flood.interrupted });
      rows.push({ figure: `flood: first text sent → every text answered (${variant.name})`, load: `${TEXTS} texts`, unit: "ms", value: flood.answeredMs });
      notes.push(
        `${variant.name}: ${during.length} pings during the flood (${lost} unanswered), ${completed}/${turnsDuring.length} of the other session's turns completed during it` +
          `; the flooder got ${flood.rateLimited} rate_limited, ${flood.otherErrors} other errors, ${flood.completed} completed and ${flood.interrupted} interrupted turns` +
          (flood.rateLimited + flood.otherErrors + flood.completed + flood.interrupted < TEXTS ? " (not every text was answered within the window)" : ""),
      );
      const failedTurns = watch.turns.filter((t) => t.error);
      if (failedTurns.length > 0) notes.push(`${variant.name}: ${failedTurns.length} of the other session's turns failed, e.g. ${failedTurns[0]!.error}`);
      if (variant.name === "default quotas") {
        targets.push({
          name: "another session's ping p95 while one session floods 5,000 texts",
          goal: "< 50 ms, and its turns complete",
          measured: `p95 ${rtt?.p95 ?? "n/a"} ms (${lost} of ${during.length} unanswered); ${completed}/${turnsDuring.length} turns completed`,
          met: rtt !== null && rtt.p95 < 50 && lost === 0 && turnsDuring.length > 0 && completed === turnsDuring.length,
        });
      }
      (plots as Record<string, unknown>)[variant.name] = { pingsDuring: during.map((p) => [p.sentAt - flood.startedAt, p.rttMs]) };
    } finally {
      await server.stop();
    }
  }
  return { rows, targets, notes, plots };
};
