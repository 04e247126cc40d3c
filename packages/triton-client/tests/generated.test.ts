/** Fails when src/generated/ no longer matches what `bun run gen:triton` produces from proto/. */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { GENERATED_DIR, generateInto } from "../scripts/gen";

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

test("committed generated types are up to date with the .proto files", () => {
  const fresh = mkdtempSync(join(tmpdir(), "triton-gen-"));
  try {
    generateInto(fresh);
    const expected = listFiles(fresh);
    expect(listFiles(GENERATED_DIR)).toEqual(expected);
    const stale = expected.filter((file) => readFileSync(join(fresh, file), "utf8") !== readFileSync(join(GENERATED_DIR, file), "utf8"));
    if (stale.length > 0) throw new Error(`stale generated files (run \`bun run gen:triton\`): ${stale.join(", ")}`);
    expect(expected.length).toBeGreaterThan(50);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});
