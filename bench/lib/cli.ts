/** Command-line options of `bun run bench`. */
import { parseArgs } from "node:util";

export const SCENARIO_IDS = ["gateway", "voice", "sessions", "throughput", "storage", "telemetry", "browser", "models", "turntaking", "fuzz", "flood", "auth"] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface Options {
  scenarios: ScenarioId[];
  quick: boolean;
  profile: boolean;
  /** Use a Triton already serving the bench repository instead of starting one. */
  keepTriton: boolean;
  tritonPorts: { http: number; grpc: number; metrics: number };
  resultsDir: string;
  /** Concurrent sessions for the voice scenario (default 1, 10, 50, 100; quick 1, 10). */
  voiceLevels?: number[];
}

export const USAGE = `Usage: bun run bench [--scenario gateway,voice,sessions,throughput,storage,telemetry,browser,models,turntaking,fuzz,flood,auth] [--quick] [--profile]
                     [--triton-port-base 8300] [--keep-triton] [--results-dir bench/results]
  --scenario          scenarios to run, comma-separated (default: all)
  --quick             fewer and shorter runs (a smoke test of the harness, not numbers to quote)
  --profile           run each Morgan server under Bun's CPU profiler; top functions in <results>/profiles/
  --triton-port-base  the bench Triton's HTTP port; gRPC and metrics use the next two (default 8300)
  --keep-triton       leave the bench Triton running afterwards (a later run reuses it)
  --voice-levels      concurrent sessions for the voice scenario, comma-separated (default 1,10,50,100)`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string", default: SCENARIO_IDS.join(",") },
      quick: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      "keep-triton": { type: "boolean", default: false },
      "triton-port-base": { type: "string", default: "8300" },
      "results-dir": { type: "string", default: "bench/results" },
      "voice-levels": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scenarios = values.scenario.split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of scenarios) {
    if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new Error(`unknown scenario "${id}"; expected ${SCENARIO_IDS.join(", ")}`);
  }
  const base = Number(values["triton-port-base"]);
  if (!Number.isInteger(base) || base < 1024 || base > 65533) throw new Error("--triton-port-base must be a port number");
  return {
    scenarios: scenarios as ScenarioId[],
    quick: values.quick,
    profile: values.profile,
    keepTriton: values["keep-triton"],
    tritonPorts: { http: base, grpc: base + 1, metrics: base + 2 },
    resultsDir: values["results-dir"],
    voiceLevels: values["voice-levels"]?.split(",").map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`--voice-levels: "${v}" is not a session count`);
      return n;
    }),
  };
}
