/**
 * The architecture, checked on every import in src/ (type-only imports included, tests excluded):
 * no cycles, imports point down, and only src/telemetry talks to telemetry libraries.
 *
 *   main → api → pipeline → inference, storage → telemetry/events, protocol, config, logging, audio
 *
 * Storage implements the pipeline's ports, so it may import src/pipeline/ports.ts (and the settings
 * type that file names), nothing else of the pipeline.
 */
import { expect, test } from "bun:test";
import { type ICruiseResult, type IForbiddenRuleType, cruise } from "dependency-cruiser";

const forbid = (name: string, from: string, to: string, pathNot?: string): IForbiddenRuleType => ({
  name,
  severity: "error",
  from: { path: from },
  to: pathNot ? { path: to, pathNot } : { path: to },
});

const RULES: IForbiddenRuleType[] = [
  { name: "no-cycle", severity: "error", from: {}, to: { circular: true } },
  forbid("nothing imports main", "^src/", "^src/main\\.ts$"),
  forbid("pipeline below api", "^src/pipeline/", "^src/api/"),
  forbid("pipeline uses storage through its ports", "^src/pipeline/", "^src/storage/"),
  forbid("inference below pipeline, storage and api", "^src/inference/", "^src/(pipeline|storage|api)/"),
  forbid("storage below api and inference", "^src/storage/", "^src/(api|inference)/"),
  forbid("storage sees only the pipeline's ports", "^src/storage/", "^src/pipeline/", "^src/pipeline/(ports|settings)\\.ts$"),
  forbid("low modules import no layer", "^src/(protocol|config|logging|audio)/", "^src/(api|pipeline|inference|storage|telemetry)/"),
  forbid("the seam imports no layer", "^src/telemetry/events\\.ts$", "^src/(api|pipeline|inference|storage)/"),
  forbid("telemetry observes, it does not reach into layers", "^src/telemetry/", "^src/(api|pipeline|inference|storage)/"),
  {
    name: "only src/telemetry imports telemetry libraries",
    severity: "error",
    from: { path: "^src/", pathNot: "^src/telemetry/" },
    to: { path: "node_modules/(prom-client|@opentelemetry|@hono/otel)/" },
  },
];

test("src/ has no import cycle and every import points down", async () => {
  const result = await cruise(
    ["src"],
    {
      tsPreCompilationDeps: true,
      exclude: { path: "\\.test\\.ts$" },
      doNotFollow: { path: "node_modules" },
      ruleSet: { forbidden: RULES },
      validate: true,
    },
    undefined,
    { tsConfig: { fileName: "tsconfig.json" } },
  );
  const output = result.output as ICruiseResult;
  expect(output.summary.totalCruised).toBeGreaterThan(50);
  const violations = output.summary.violations.map((v) =>
    v.cycle ? `${v.rule.name}: ${v.cycle.map((step) => step.name).join(" -> ")}` : `${v.rule.name}: ${v.from} -> ${v.to}`,
  );
  expect(violations).toEqual([]);
});
