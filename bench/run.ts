/**
 * Morgan's benchmark harness: `bun run bench [--scenario …] [--quick] [--profile]` (see bench/README.md).
 * Brings up what the scenarios need (PostgreSQL/Redis if down, a private Triton on spare ports, Morgan
 * servers on fresh databases), runs each scenario's load from separate worker processes, and writes
 * JSON, a Markdown table and PNG plots under bench/results/.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Options, USAGE, parseOptions, type ScenarioId } from "./lib/cli";
import { BenchTriton, ROOT, ensureDataServices, machine } from "./lib/environment";
import { summariseProfiles } from "./lib/profile";
import { loadAverage } from "./lib/procstat";
import { type RunReport, renderPlots, writeReport } from "./lib/report";
import type { BenchContext, Scenario, ScenarioResult } from "./lib/scenario";
import { gatewayOverhead } from "./scenarios/gateway";
import { messageThroughput } from "./scenarios/throughput";
import { sessionScale } from "./scenarios/sessions";
import { storageUnderConcurrency } from "./scenarios/storage";
import { telemetryCost } from "./scenarios/telemetry";
import { voiceTurns } from "./scenarios/voice";
import { browserTurns } from "./scenarios/browser";
import { modelsScenario } from "./scenarios/models";
import { turnTakingScenario } from "./scenarios/turntaking";
import { fuzzScenario } from "./scenarios/fuzz";
import { floodScenario } from "./scenarios/flood";
import { authCost } from "./scenarios/auth";

const SCENARIOS: Record<ScenarioId, { title: string; run: Scenario }> = {
  gateway: { title: "1. Gateway overhead (direct Triton vs through Morgan)", run: gatewayOverhead },
  voice: { title: "2. Voice turns (real-time audio, concurrent sessions)", run: voiceTurns },
  sessions: { title: "3. Session scale (idle sessions held open)", run: sessionScale },
  throughput: { title: "4. Control-message throughput (instant models)", run: messageThroughput },
  storage: { title: "5. Storage under concurrency", run: storageUnderConcurrency },
  telemetry: { title: "6. Telemetry cost (metrics and tracing on vs off)", run: telemetryCost },
  browser: { title: "7. Browser: the web page in Chromium vs a WebSocket client", run: browserTurns },
  models: { title: "8. Neural models: WER, end of speech → first audio, follow-up turns, concurrent sessions", run: modelsScenario },
  turntaking: { title: "9. Turn-taking: semantic vs silence end of turn", run: turnTakingScenario },
  fuzz: { title: "10. Protocol fuzz (100,000+ frames)", run: fuzzScenario },
  flood: { title: "11. Flood: one session sends 5,000 texts, another pings and takes turns", run: floodScenario },
  auth: { title: "12. Cost of authentication (auth on vs off)", run: authCost },
};

function log(line: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function main(options: Options): Promise<void> {
  const startedAt = new Date().toISOString();
  const resultsDir = resolve(ROOT, options.resultsDir);
  const profileRoot = options.profile ? `/tmp/morgan-bench-profiles-${process.pid}` : undefined;
  const runDir = `/tmp/morgan-bench-triton-${options.tritonPorts.http}`;
  const triton = new BenchTriton(options.tritonPorts, runDir, `${runDir}/models`);
  await ensureDataServices(log);
  log(`starting the bench Triton on gRPC ${options.tritonPorts.grpc}`);
  await triton.start(log);
  const context: BenchContext = { triton, quick: options.quick, log, machine: machine(), profileDir: profileRoot, voiceLevels: options.voiceLevels };
  const scenarios: ScenarioResult[] = [];
  const name = options.scenarios.length === Object.keys(SCENARIOS).length ? "bench" : `bench-${options.scenarios.join("-")}`;
  const report = (): RunReport => ({
    command: `bun run bench ${process.argv.slice(2).join(" ")}`.trim(),
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    machine: context.machine,
    scenarios,
  });
  try {
    for (const id of options.scenarios) {
      const { title, run } = SCENARIOS[id];
      log(`scenario ${id}: ${title}`);
      const loadavgBefore = loadAverage();
      const scenarioStarted = new Date().toISOString();
      const result = await run(context);
      scenarios.push({ id, title, startedAt: scenarioStarted, loadavgBefore, loadavgAfter: loadAverage(), ...result });
      if (profileRoot) {
        mkdirSync(join(resultsDir, "profiles"), { recursive: true });
        summariseProfiles(join(profileRoot, id), join(resultsDir, "profiles", `${id}.md`));
      }
      // Written after every scenario so a later failure keeps what was measured.
      writeReport(report(), resultsDir, name);
    }
  } finally {
    if (!options.keepTriton) triton.stop(log);
    // The full profiles (.cpuprofile for Chrome DevTools, .md with call trees) are too big to commit.
    if (profileRoot) log(`full CPU profiles kept in ${profileRoot}`);
  }
  const { json, md } = writeReport(report(), resultsDir, name);
  renderPlots(json, join(resultsDir, "plots"), log);
  log(`results: ${md}`);
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}\n${USAGE}`);
  process.exit(2);
}
await main(options);
process.exit(0);
