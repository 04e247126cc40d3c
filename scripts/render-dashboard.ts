/**
 * Renders a static picture of deploy/grafana/morgan.json for the docs, without Grafana: the
 * dashboard's layout (panels, titles, legends) filled with the values of one real scrape of a
 * Morgan and of a Triton (counters as totals since start, histograms as p50/p95 over all
 * observations, gauges as they are), drawn by headless Chromium.
 *
 *   bun scripts/render-dashboard.ts --morgan http://127.0.0.1:8000/metrics --triton http://127.0.0.1:8102/metrics \
 *     --out docs/images/grafana-dashboard.png
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Family, parsePrometheusText } from "../tests/helpers/prometheus";

interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; legendFormat: string }[];
}

const ROW_PX = 28;
const { values } = parseArgs({ options: { morgan: { type: "string" }, triton: { type: "string" }, out: { type: "string" } } });
if (!values.morgan || !values.triton || !values.out) throw new Error("usage: bun scripts/render-dashboard.ts --morgan URL --triton URL --out FILE.png");

const families = [...(await scrape(values.morgan)), ...(await scrape(values.triton))];
const dashboard = JSON.parse(readFileSync(join(import.meta.dir, "../deploy/grafana/morgan.json"), "utf8")) as { title: string; panels: Panel[] };
const height = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * ROW_PX + 80;
const html = page(dashboard.title, dashboard.panels.map(render).join("\n"), height);
const dir = mkdtempSync(join(tmpdir(), "morgan-dashboard-"));
writeFileSync(join(dir, "dashboard.html"), html);
const chromium = Bun.spawnSync(
  ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", `--window-size=1600,${height}`, `--screenshot=${values.out}`, `file://${join(dir, "dashboard.html")}`],
  { stderr: "pipe" },
);
if (chromium.exitCode !== 0) throw new Error(`chromium failed: ${chromium.stderr.toString().slice(-1000)}`);
console.log(`wrote ${values.out}`);

async function scrape(url: string): Promise<Family[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return parsePrometheusText(await response.text());
}

function render(panel: Panel): string {
  const { x, y, w, h } = panel.gridPos;
  const style = `left:${(x / 24) * 100}%;top:${y * ROW_PX + 48}px;width:calc(${(w / 24) * 100}% - 8px);height:${h * ROW_PX - 8}px`;
  if (panel.type === "row") return `<div class="row" style="${style}">${escape(panel.title)}</div>`;
  const lines = (panel.targets ?? []).flatMap((target) => valuesOf(target.expr, target.legendFormat));
  const body = lines.length === 0 ? `<div class="none">no data yet</div>` : lines.map(([label, value]) => `<div class="line"><span>${escape(label)}</span><b>${escape(value)}</b></div>`).join("");
  return `<div class="panel ${panel.type}" style="${style}"><div class="title">${escape(panel.title)}</div>${body}</div>`;
}

/** The value(s) an expression shows now: quantiles of a histogram, totals of a counter, a gauge's value. */
function valuesOf(expr: string, legend: string): [string, string][] {
  const found = [...expr.matchAll(/\b((?:morgan|nv|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => familyOf(m[1]!)).filter((f) => f !== undefined);
  const [family, divisor] = found;
  if (!family) return [];
  const quantile = /histogram_quantile\(([\d.]+)/.exec(expr)?.[1];
  if (family.type === "histogram") return quantile ? histogramQuantiles(family, Number(quantile), legend) : [];
  const numerator = totals(family, legend);
  if (divisor && divisor !== family) {
    // A mean per request (Triton's queue or compute microseconds over its requests), shown in ms.
    const denominator = totals(divisor, legend);
    return [...numerator].map(([label, value]) => [label, `${(value / Math.max(denominator.get(label) ?? 0, 1) / 1000).toFixed(2)} ms`]);
  }
  const suffix = family.type === "counter" ? " total" : "";
  return [...numerator].map(([label, value]) => [label + suffix, format(value, expr)]);
}

/** The family a series name belongs to (a counter's family drops `_total`, a histogram's series add suffixes). */
function familyOf(series: string): Family | undefined {
  return (
    families.find((f) => f.name === series || `${f.name}_total` === series) ??
    families.find((f) => f.type === "histogram" && series.replace(/_(bucket|sum|count)$/, "") === f.name)
  );
}

function totals(family: Family, legend: string): Map<string, number> {
  const byLabel = new Map<string, number>();
  for (const sample of family.samples.filter((s) => !s.name.endsWith("_created"))) {
    const label = legend.replace(/\{\{(\w+)\}\}/g, (_, key: string) => sample.labels[key] ?? "") || family.name;
    byLabel.set(label, (byLabel.get(label) ?? 0) + sample.value);
  }
  return byLabel;
}

function histogramQuantiles(family: Family, q: number, legend: string): [string, string][] {
  const groups = new Map<string, { le: number; count: number }[]>();
  for (const sample of family.samples.filter((s) => s.name.endsWith("_bucket"))) {
    const { le, ...rest } = sample.labels;
    const key = legend.includes("{{model}}") ? (rest.model ?? "") : "";
    const buckets = groups.get(key) ?? [];
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    const existing = buckets.find((b) => b.le === bound);
    if (existing) existing.count += sample.value;
    else buckets.push({ le: bound, count: sample.value });
    groups.set(key, buckets);
  }
  return [...groups].flatMap(([key, buckets]) => {
    buckets.sort((a, b) => a.le - b.le);
    const total = buckets.at(-1)?.count ?? 0;
    if (total === 0) return [];
    // Prometheus's histogram_quantile: linear interpolation inside the bucket that holds the rank.
    const rank = q * total;
    let previous = { le: 0, count: 0 };
    for (const bucket of buckets) {
      if (bucket.count >= rank) {
        const upper = Number.isFinite(bucket.le) ? bucket.le : previous.le;
        const value = previous.le + ((upper - previous.le) * (rank - previous.count)) / Math.max(bucket.count - previous.count, 1e-9);
        return [[legend.replace("{{model}}", key), `${(value * 1000).toFixed(0)} ms`] as [string, string]];
      }
      previous = bucket;
    }
    return [];
  });
}

function format(value: number, expr: string): string {
  if (/bytes/.test(expr)) return `${(value / 2 ** 20).toFixed(0)} MiB`;
  if (/_seconds_total|duration_us/.test(expr)) return `${value.toFixed(1)}`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function page(title: string, panels: string, height: number): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111217;color:#ccccdc;font:13px Inter,Helvetica,Arial,sans-serif;height:${height}px;position:relative}
header{height:40px;line-height:40px;padding:0 16px;font-size:17px;color:#fff;border-bottom:1px solid #2a2b31}
header small{color:#8e8e99;font-size:12px;margin-left:12px}
.row{position:absolute;color:#fff;font-weight:600;font-size:14px;padding:4px 8px}
.panel{position:absolute;background:#181b1f;border:1px solid #2a2b31;border-radius:2px;padding:6px 10px;box-sizing:border-box;overflow:hidden;margin-left:4px}
.title{color:#fff;font-weight:500;margin-bottom:6px}
.line{display:flex;justify-content:space-between;border-bottom:1px dotted #2a2b31;padding:2px 0}
.line b{color:#73bf69;font-weight:500}
.stat .line b{font-size:30px;color:#73bf69}
.none{color:#8e8e99;font-style:italic}
</style></head><body><header>${escape(title)}<small>static rendering of deploy/grafana/morgan.json from one real scrape (totals since start, quantiles over all observations)</small></header>${panels}</body></html>`;
}
