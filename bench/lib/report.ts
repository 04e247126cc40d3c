/** Writes a run's results: JSON (everything), Markdown (the table and targets), PNG plots (Python). */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, type Machine } from "./environment";
import type { Row, ScenarioResult } from "./scenario";

export interface RunReport {
  command: string;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: Machine;
  scenarios: ScenarioResult[];
}

const fmt = (value: number | undefined | null) => (value === undefined || value === null ? "–" : String(value));

function rowCells(row: Row): string[] {
  const d = row.distribution;
  const figures = d ? [fmt(d.n), fmt(d.p50), fmt(d.p95), fmt(d.p99)] : ["", row.value === undefined ? "–" : String(row.value ?? "–"), "", ""];
  const server = row.server ? `${row.server.cpuCores} / ${row.server.rssPeakMiB}` : "";
  const triton = row.triton ? `${row.triton.cpuCores}` : "";
  const client = row.clientCpuCores === undefined ? "" : String(row.clientCpuCores);
  const throughput = row.throughput ? `${row.throughput.value} ${row.throughput.unit}` : "";
  return [row.figure, row.load, row.unit, ...figures, throughput, server, triton, client];
}

export function markdown(report: RunReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`# Morgan benchmark results`, "");
  lines.push(`Command: \`${report.command}\` — ${report.startedAt} → ${report.finishedAt}${report.quick ? " (quick mode: fewer, shorter runs)" : ""}`, "");
  lines.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Bun ${m.bun}, GPU: ${m.gpu}`, "");
  lines.push("Single values (ratios, added latency) are written p50 / p95 / p99 in the p50 column. Server = Morgan's process: CPU in cores (1.0 = one core busy) over the measured window / peak RSS in MiB. Triton = tritonserver and its Python model processes, CPU in cores. Load gen = the load-generator processes' CPU in cores.", "");
  for (const scenario of report.scenarios) {
    lines.push(`## ${scenario.title}`, "");
    lines.push(`Load average before ${scenario.loadavgBefore.join(" ")}, after ${scenario.loadavgAfter.join(" ")}.`, "");
    lines.push("| figure | load | unit | n | p50 | p95 | p99 | throughput | server CPU / peak RSS MiB | Triton CPU | load gen CPU |");
    lines.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const row of scenario.rows) lines.push(`| ${rowCells(row).join(" | ")} |`);
    lines.push("");
    if (scenario.targets.length > 0) {
      lines.push("| target | goal | measured | met |", "|---|---|---|---|");
      for (const t of scenario.targets) lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? "yes" : `**no**${t.note ? ` — ${t.note}` : ""}`} |`);
      lines.push("");
    }
    for (const note of scenario.notes) lines.push(`- ${note}`);
    if (scenario.notes.length > 0) lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

export function writeReport(report: RunReport, directory: string, name: string): { json: string; md: string } {
  mkdirSync(directory, { recursive: true });
  const json = join(directory, `${name}.json`);
  const md = join(directory, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(md, markdown(report));
  return { json, md };
}

/** Renders PNGs with bench/plot.py in the project venv; a missing matplotlib is reported, not fatal. */
export function renderPlots(jsonPath: string, directory: string, log: (line: string) => void): void {
  const python = join(ROOT, ".venv/bin/python");
  if (!existsSync(python)) return log("plots skipped: .venv/bin/python missing (scripts/triton/install.sh)");
  const result = Bun.spawnSync([python, join(ROOT, "bench/plot.py"), jsonPath, directory], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) log(`plots failed (pip install -r bench/requirements.txt?): ${result.stderr.toString().slice(-2000)}`);
  else log(result.stdout.toString().trim());
}
