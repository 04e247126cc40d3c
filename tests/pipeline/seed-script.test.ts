/**
 * The seed document's own Python test client (tests/seed/seed_client.py, copied verbatim) runs
 * unchanged against Morgan and reaches response_complete. It hard-codes ws://localhost:8000.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { useServer } from "./support/server";

const ROOT = join(import.meta.dir, "../..");
useServer({ port: 8000 });

test("the seed's Python client completes a turn", async () => {
  const python = join(ROOT, ".venv/bin/python");
  const child = Bun.spawn([python, join(ROOT, "tests/seed/seed_client.py")], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill(), 60_000);
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  clearTimeout(timer);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout).toContain("Session started:");
  expect(stdout).toContain("Text:");
  expect(stdout).toContain("Audio chunk received:");
  expect(stdout).toContain("Complete:");
});
