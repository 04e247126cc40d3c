/**
 * Reads a /metrics scrape with the Prometheus project's own text parser (prometheus_client, in the
 * project's .venv via tests/requirements.txt): a scrape that Prometheus would reject fails the test.
 */
import { join } from "node:path";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const ROOT = join(import.meta.dir, "../..");

export async function parsePrometheusText(text: string): Promise<Family[]> {
  const python = join(ROOT, ".venv/bin/python");
  const child = Bun.spawn([python, join(import.meta.dir, "parse_metrics.py")], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`the Prometheus parser refused the scrape (${code}): ${err}\n(install it: .venv/bin/python -m pip install -r tests/requirements.txt)`);
  return JSON.parse(out) as Family[];
}

/** The family exposed as `name` (the parser names a counter's family without its `_total`). */
export function family(families: Family[], name: string): Family | undefined {
  return families.find((f) => f.name === name || `${f.name}_total` === name);
}

/** Samples named `name` (a metric, or its `_sum`, `_count`, `_bucket`) whose labels include `labels`. */
export function samples(families: Family[], name: string, labels: Record<string, string> = {}): Sample[] {
  return families.flatMap((f) => f.samples).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with `labels`; throws when there is none or several. */
export function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const found = samples(families, name, labels);
  if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: expected one sample, found ${found.length}`);
  return found[0]!.value;
}
