/**
 * Condenses the Markdown CPU profiles Bun writes (`--cpu-prof-md`) into a short summary: the header
 * and the top functions by self time, small enough to commit next to the results.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function summariseProfiles(profileDir: string, outFile: string, topN = 25): string | undefined {
  if (!existsSync(profileDir)) return undefined;
  const files = readdirSync(profileDir).filter((f) => f.endsWith(".md")).sort();
  if (files.length === 0) return undefined;
  const parts: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(profileDir, file), "utf8");
    const lines = text.split("\n");
    const hot = lines.findIndex((l) => l.startsWith("## Hot Functions"));
    const header = lines.slice(0, Math.max(0, lines.findIndex((l) => l.startsWith("## ")))).join("\n").trim();
    const table = hot >= 0 ? lines.slice(hot, hot + 4 + topN).join("\n") : "(no hot-function table)";
    parts.push(`### ${file}\n\n${header}\n\n${table}\n`);
  }
  const summary = `# CPU profile summary (Bun --cpu-prof of the Morgan server)\n\n${parts.join("\n")}`;
  writeFileSync(outFile, summary);
  return summary;
}
