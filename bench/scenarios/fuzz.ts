/**
 * Scenario 10, protocol fuzz (issue 12): at least 100,000 frames (10,000 with --quick) of random
 * bytes, wrong types for every field of every client message, forged resumes and oversize frames,
 * from a worker process (tests/security/support/fuzz.ts; tests/security/fuzz.test.ts runs 3,000 in
 * CI). Targets: every frame answered as the protocol says, no crash, and a normal session afterwards.
 */
import type { FuzzStats } from "../../tests/security/support/fuzz";
import { startMorgan } from "../lib/environment";
import { measured } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { round } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import { LoadSocket } from "../load/ws";

const SEED = 20261202;

export const fuzzScenario: Scenario = async (context) => {
  const frames = context.quick ? 10_000 : 120_000;
  const server = await startMorgan({ tritonUrl: context.triton.grpcUrl });
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  try {
    context.log(`fuzz: ${frames} frames, seed ${SEED}`);
    const run = await measured({ server: server.pid, triton: context.triton.pid() }, () =>
      runWorkers<FuzzStats>([{ kind: "fuzz", wsUrl: server.wsUrl, frames, seed: SEED, lanes: 4 }], 1800),
    );
    const [stats] = run.result.results as [FuzzStats];
    const health = await fetch(`${server.url}/health`).then((r) => r.status, () => 0);
    // A normal session afterwards: a text turn completes.
    let normal = "not tried";
    try {
      const socket = await LoadSocket.connect(`${server.wsUrl}/ws/stream`);
      await socket.start({ max_response_tokens: 8 });
      const done = socket.waitFor((m) => m.type === "response_complete", 60_000);
      socket.send({ type: "text", data: { text: "Hello after the fuzz" } });
      await done;
      await socket.stop();
      normal = "a text turn completed";
    } catch (error) {
      normal = `failed: ${error instanceof Error ? error.message : error}`;
    }
    const crashed = /"level":"fatal"|uncaught|unhandled/i.test(server.logs());
    rows.push({ figure: "fuzz frames sent", load: `seed ${SEED}`, unit: "frames", value: stats.frames, throughput: { value: round(stats.frames / stats.wallS, 0), unit: "frames/s" }, server: run.server });
    rows.push({ figure: "fuzz frames answered as the protocol says", load: `seed ${SEED}`, unit: "frames", value: stats.answered });
    rows.push({ figure: "wrong answers (an answer other than the frame called for)", load: `seed ${SEED}`, unit: "answers", value: stats.wrongAnswers });
    rows.push({ figure: "sessions / connections used", load: `seed ${SEED}`, unit: "count", value: `${stats.sessions} / ${stats.connections}` });
    notes.push(`closes by code: ${JSON.stringify(stats.closes)}; unanswered: ${JSON.stringify(stats.unanswered)}; /health ${health} afterwards; ${normal}; server log ${crashed ? "shows a crash" : "shows no crash"}`);
    targets.push({
      name: "fuzz: ≥ 100,000 frames, 0 crashes, an answer to each",
      goal: "every frame answered, no crash, a normal session afterwards",
      measured: `${stats.answered}/${stats.frames} answered, ${stats.wrongAnswers} wrong answers, ${crashed ? "a crash" : "no crash"}, ${normal}`,
      met: stats.frames >= 100_000 && stats.answered === stats.frames && stats.wrongAnswers === 0 && !crashed && health === 200 && normal === "a text turn completed",
      note: context.quick ? "quick run: fewer frames than the target asks" : undefined,
    });
  } finally {
    await server.stop();
  }
  return { rows, targets, notes, plots: {} };
};
