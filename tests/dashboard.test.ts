/**
 * deploy/grafana/morgan.json stays true to the metrics: every expression parses as PromQL (the
 * Prometheus project's own grammar), every morgan_* / process / nodejs metric it reads is one Morgan
 * exposes, and every nv_* metric is one the running test Triton exposes (TRITON_METRICS_PORT).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { Observers } from "../src/telemetry/events.ts";
import { MetricsObserver } from "../src/telemetry/metrics.ts";

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(join(import.meta.dir, "../deploy/grafana/morgan.json"), "utf8")) as { panels: Panel[]; templating: { list: { name: string }[] } };
const panels = dashboard.panels.filter((p) => p.type !== "row");
const expressions = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
/** Grafana's variables, replaced the way Grafana would before the query reaches Prometheus. */
const asPromql = (expr: string) => expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*").replaceAll("$triton", ".*");
/** Metric names in an expression; a Morgan histogram's series are named by the histogram. */
const metricNames = (expr: string) =>
  [...expr.matchAll(/\b((?:morgan|nv|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => (m[1]!.startsWith("morgan_") ? m[1]!.replace(/_(bucket|sum|count)$/, "") : m[1]!));

test("every panel queries the chosen Prometheus and every expression is valid PromQL", () => {
  expect(panels.length).toBeGreaterThan(15);
  expect(dashboard.templating.list.map((v) => v.name)).toEqual(["datasource", "instance", "triton"]);
  for (const panel of panels) expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: "${datasource}" });
  const invalid = expressions.filter(({ expr }) => {
    let error = false;
    parser.parse(asPromql(expr)).iterate({ enter: (node) => void (node.type.isError && (error = true)) });
    return error;
  });
  expect(invalid).toEqual([]);
});

test("the Morgan metrics it reads are the ones Morgan exposes", async () => {
  const exposed = new Set((await new MetricsObserver(new Observers()).registry.getMetricsAsJSON()).map((m) => m.name));
  const used = new Set(expressions.flatMap(({ expr }) => metricNames(expr)).filter((name) => !name.startsWith("nv_")));
  expect(used.size).toBeGreaterThan(15);
  expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
});

test("the Triton metrics it reads are the ones Triton exposes", async () => {
  const port = process.env.TRITON_METRICS_PORT ?? "8102";
  const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch((error: unknown) => {
    throw new Error(`Triton's metrics are needed at 127.0.0.1:${port} (scripts/test.sh starts Triton; export TRITON_METRICS_PORT): ${error}`);
  });
  const exposed = new Set([...(await response.text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!));
  const used = new Set(expressions.flatMap(({ expr }) => metricNames(expr)).filter((name) => name.startsWith("nv_")));
  expect(used.size).toBeGreaterThanOrEqual(5);
  expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
});
