/**
 * Condenses Bun's CPU profiles (`--cpu-prof`, Chrome .cpuprofile format) into a short Markdown
 * summary small enough to commit: functions ranked by self samples, and samples per package / area.
 *
 * Ranked by sample counts, not by the times in Bun's own Markdown: those add the gap since the
 * previous sample to whatever is on the stack, so on a busy machine a function sampled once while the
 * process was descheduled can show seconds. Sample counts say where the CPU actually went.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

/** Where a function lives: a dependency by package name, Morgan's code by top folder, else native. */
function area(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const own = /\/(src\/[^/]+|packages\/[^/]+)/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith("internal:") || url.startsWith("node:")) return "bun runtime (node compat)";
  return url === "" || url === "[native code]" ? "native / idle" : url.replace(/^.*\/work\/main\//, "");
}

const UNOWNED = new Set(["native / idle", "bun runtime (node compat)"]);

function summariseOne(file: string, topN: number): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const selfByFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  // Native and runtime frames (socket writes, JSON, buffers) are charged to the nearest caller that
  // belongs to a package or to Morgan, so "who made the server do this" is visible.
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const owner = (node: ProfileNode): string => {
    for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) {
      const where = area(at.callFrame.url);
      if (!UNOWNED.has(where)) return where;
    }
    return area(node.callFrame.url);
  };
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const location = url ? `${url.replace(/^.*\/work\/main\//, "")}${lineNumber >= 0 ? `:${lineNumber + 1}` : ""}` : "[native]";
    const key = `\`${functionName || "(anonymous)"}\` | ${location}`;
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + hits);
    const where = owner(node);
    byArea.set(where, (byArea.get(where) ?? 0) + hits);
  }
  const pct = (n: number) => `${((100 * n) / Math.max(1, total)).toFixed(1)}%`;
  const lines = [`Samples: ${total} (1 ms sampling interval while the process runs).`, "", "| self samples | share | function | location |", "|---:|---:|---|---|"];
  for (const [key, hits] of [...selfByFunction].sort((a, b) => b[1] - a[1]).slice(0, topN)) lines.push(`| ${hits} | ${pct(hits)} | ${key} |`);
  lines.push("", "Samples by area (native and runtime frames charged to their nearest package or Morgan caller):", "", "| area | samples | share |", "|---|---:|---:|");
  for (const [where, hits] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`| ${where} | ${hits} | ${pct(hits)} |`);
  return lines.join("\n");
}

export function summariseProfiles(profileDir: string, outFile: string, topN = 25): string | undefined {
  if (!existsSync(profileDir)) return undefined;
  const files = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile")).sort();
  if (files.length === 0) return undefined;
  const parts = files.map((file) => `## ${file}\n\n${summariseOne(join(profileDir, file), topN)}\n`);
  const summary = `# CPU profile summary (Bun --cpu-prof of the Morgan server)\n\n${parts.join("\n")}`;
  writeFileSync(outFile, summary);
  return summary;
}

if (import.meta.main) {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out) throw new Error("usage: bun bench/lib/profile.ts <profile-dir> <summary.md>");
  summariseProfiles(dir, out);
}
