/**
 * Scenario 3, session scale: up to 1,000 WebSocket sessions held open (start, then a ping every
 * 20 s each) by several load-generator processes, opened in steps so the server's memory can be read
 * against the number of sessions; then occasional text turns among them. Memory per idle session is
 * (RSS with N sessions − RSS before any) / N, and the slope of RSS over all steps as a cross-check.
 */
import { startMorgan } from "../lib/environment";
import { shares } from "../lib/measure";
import { ProcessSampler, rssKiB } from "../lib/procstat";
import type { Row, Scenario, Target } from "../lib/scenario";
import { distribution, round } from "../lib/stats";
import { LoadWorker, runWorkers } from "../lib/workers";
import type { FloodResult, HoldOpened, HoldResult } from "../load/protocol";

const TARGET_KIB_PER_SESSION = 64;

/** Mean RSS over a second of samples, so one allocation burst does not decide the figure. */
async function settledRssKiB(pid: number): Promise<number> {
  await Bun.sleep(2000);
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    samples.push(rssKiB(pid));
    await Bun.sleep(100);
  }
  return samples.reduce((s, v) => s + v, 0) / samples.length;
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export const sessionScale: Scenario = async (context) => {
  const steps = context.quick ? [50, 200] : [100, 250, 500, 750, 1000];
  const workerCount = context.quick ? 2 : 4;
  const turnSeconds = context.quick ? 5 : 20;
  const server = await startMorgan({ tritonUrl: context.triton.grpcUrl, profileDir: context.profileDir && `${context.profileDir}/sessions` });
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const curve: { sessions: number; rssMiB: number }[] = [];
  const workers: LoadWorker[] = [];
  try {
    // Warm-up (not measured): a few sessions exercise the code paths once, so the baseline includes JIT'd code.
    await runWorkers<FloodResult>([{ kind: "flood", wsUrl: server.wsUrl, connections: 4, window: 4, durationS: 1, message: "ping", text: "" }], 60);
    const baseline = await settledRssKiB(server.pid);
    curve.push({ sessions: 0, rssMiB: round(baseline / 1024, 1) });
    const limitS = 60 * 10;
    for (let i = 0; i < workerCount; i++) {
      workers.push(new LoadWorker({ kind: "hold-sessions", wsUrl: server.wsUrl, pingIntervalMs: 20_000, turnText: "What is the weather like today?", deadlineS: limitS }, limitS + 30));
    }
    const setupMs: number[] = [];
    const failures: string[] = [];
    let opened = 0;
    let requested = 0;
    const openPerWorker = workers.map(() => 0);
    let openWallS = 0;
    const sampler = new ProcessSampler(server.pid);
    for (const total of steps) {
      const perWorker = shares(total - requested, workerCount);
      requested = total;
      context.log(`sessions: opening ${perWorker.reduce((s, n) => s + n, 0)} more (to ${total})`);
      perWorker.forEach((count, i) => workers[i]!.command(`open ${count}`));
      const started = performance.now();
      const events: HoldOpened[] = [];
      for (let i = 0; i < perWorker.length; i++) {
        const event = (await workers[i]!.next("opened", 180_000)).data;
        openPerWorker[i] = event.total;
        events.push(event);
      }
      openWallS += (performance.now() - started) / 1000;
      opened = openPerWorker.reduce((s, n) => s + n, 0);
      for (const e of events) {
        setupMs.push(...e.setupMs);
        failures.push(...e.failures);
      }
      const rss = await settledRssKiB(server.pid);
      curve.push({ sessions: opened, rssMiB: round(rss / 1024, 1) });
    }
    const openUsage = sampler.stop();
    // What 1,000 idle sessions cost the server at rest: pings only, no turns.
    const idleSampler = new ProcessSampler(server.pid);
    await Bun.sleep(context.quick ? 3000 : 10_000);
    const idleUsage = idleSampler.stop();
    const top = curve.at(-1)!;
    const perSessionKiB = ((top.rssMiB - curve[0]!.rssMiB) * 1024) / Math.max(1, top.sessions);
    const slopeKiB = slope(curve.map((p) => ({ x: p.sessions, y: p.rssMiB * 1024 })));
    rows.push({ figure: "server RSS with no sessions (after warm-up)", load: "0 sessions", unit: "MiB", value: curve[0]!.rssMiB });
    rows.push({ figure: "server RSS with idle sessions", load: `${top.sessions} sessions`, unit: "MiB", value: top.rssMiB, server: openUsage });
    rows.push({ figure: "server CPU while the sessions idle (pings every 20 s each)", load: `${opened} sessions`, unit: "cores", value: idleUsage.cpuCores, server: idleUsage });
    rows.push({ figure: "memory per idle session (RSS_N − RSS_0) / N", load: `${top.sessions} sessions`, unit: "KiB", value: round(perSessionKiB, 1) });
    rows.push({ figure: "memory per idle session, slope over all steps", load: `0–${top.sessions} sessions`, unit: "KiB", value: round(slopeKiB, 1) });
    // The first step also pays for one-off heap growth; from the first step on, only sessions are added.
    const first = curve[1];
    if (first && top.sessions > first.sessions) {
      rows.push({ figure: "memory per idle session from the first step on", load: `${first.sessions}–${top.sessions} sessions`, unit: "KiB", value: round(((top.rssMiB - first.rssMiB) * 1024) / (top.sessions - first.sessions), 1) });
    }
    rows.push({ figure: "session set-up (connect → session_started)", load: `${workerCount} generators × 32 at once`, unit: "ms", distribution: distribution(setupMs), throughput: { value: round(setupMs.length / openWallS, 1), unit: "sessions/s" } });
    targets.push({ name: `memory per idle session at ${top.sessions} sessions`, goal: `< ${TARGET_KIB_PER_SESSION} KiB`, measured: `${round(perSessionKiB, 1)} KiB (slope ${round(slopeKiB, 1)} KiB)`, met: perSessionKiB < TARGET_KIB_PER_SESSION && top.sessions >= steps.at(-1)! });
    if (failures.length > 0) notes.push(`${failures.length} sessions failed to open, e.g. ${failures[0]}`);

    context.log(`sessions: occasional text turns for ${turnSeconds} s with ${top.sessions} sessions open`);
    const turnSampler = new ProcessSampler(server.pid);
    for (const worker of workers) worker.command(`turns ${turnSeconds}`);
    let turns = 0;
    for (const worker of workers) turns += (await worker.next("turns-done", (turnSeconds + 60) * 1000)).data.turns;
    // Let the replies started last finish their first text before the figures are collected.
    await Bun.sleep(3000);
    const turnUsage = turnSampler.stop();
    for (const worker of workers) worker.command("close");
    const results: HoldResult[] = [];
    for (const worker of workers) results.push((await worker.next("result", 60_000)).data as HoldResult);
    const stillOpen = results.reduce((s, r) => s + r.stillOpen, 0);
    rows.push({ figure: "text turn → first response_text, among the held sessions", load: `${top.sessions} sessions, ${turns} turns`, unit: "ms", distribution: distribution(results.flatMap((r) => r.turnFirstTextMs)), throughput: { value: round(turns / turnSeconds, 2), unit: "turns/s" }, server: turnUsage });
    rows.push({ figure: "ping → pong round trip (every 20 s per session)", load: `${top.sessions} sessions`, unit: "ms", distribution: distribution(results.flatMap((r) => r.pongMs)) });
    rows.push({ figure: "sessions still open at the end", load: `${top.sessions} sessions`, unit: "sessions", value: stillOpen });
    const errors = results.flatMap((r) => r.errors);
    if (errors.length > 0) notes.push(`${errors.length} errors while holding sessions, e.g. ${errors[0]}`);
  } finally {
    for (const worker of workers) worker.kill();
    await server.stop();
  }
  return { rows, targets, notes, plots: { memory: curve } };
};
