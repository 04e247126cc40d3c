/**
 * The operators' model tool against a real Triton of its own (just the tts model), so unloading it
 * cannot disturb the other tests' Triton.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PrivateTriton } from "../../../tests/helpers/private-triton";
import { type CliIo, runModelsCli } from "./cli";
import { DEFAULT_MODEL_NAMES } from "./validate";

const triton = new PrivateTriton(["tts"]);
beforeAll(() => triton.start(), 180_000);
afterAll(() => triton.stop(), 60_000);

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (l) => lines.push(l),
    err: (l) => errors.push(l),
    tritonUrl: triton.grpcUrl,
    modelNames: DEFAULT_MODEL_NAMES,
    timeoutMs: 60_000,
  };
}

const row = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name} `))?.split(/\s+/);

test("validate passes on both shipped repositories", async () => {
  const io = capture();
  expect(await runModelsCli(["validate"], io)).toBe(0);
  expect(io.lines.length).toBe(2);
  expect(io.errors).toEqual([]);
});

test("validate --server checks what Triton serves: the missing roles are named", async () => {
  const io = capture();
  expect(await runModelsCli(["validate", "--server"], io)).toBe(1);
  for (const missing of ["vad (vad)", "stt (stt)", "llm (llm)"]) expect(io.errors.some((e) => e.includes(missing))).toBe(true);
  expect(io.errors.some((e) => e.includes("tts"))).toBe(false);
});

test("list shows state, role and Triton's statistics; unload, load and reload change the state", async () => {
  const io = capture();
  expect(await runModelsCli(["list"], io)).toBe(0);
  expect(io.lines[0]).toMatch(/^model\s+version\s+state\s+role\s+requests\s+failures\s+queue_s\s+compute_s\s+reason$/);
  const tts = row(io.lines, "tts")!;
  expect(tts.slice(2, 4)).toEqual(["READY", "tts"]);
  expect(Number(tts[4])).toBeGreaterThanOrEqual(0);
  expect(await runModelsCli(["unload", "tts"], io)).toBe(0);
  expect(io.lines.at(-1)).toMatch(/^unloaded tts in \d+ ms \(UNAVAILABLE\)$/);
  const afterUnload = capture();
  await runModelsCli(["list"], afterUnload);
  expect(row(afterUnload.lines, "tts")?.[2]).toBe("UNAVAILABLE");
  expect(await runModelsCli(["load", "tts"], io)).toBe(0);
  expect(await runModelsCli(["reload", "tts"], io)).toBe(0);
  expect(io.lines.at(-1)).toMatch(/^reloaded tts in \d+ ms \(READY\)$/);
}, 120_000);

test("bad usage and unknown models are reported, not thrown", async () => {
  const io = capture();
  expect(await runModelsCli(["frobnicate"], io)).toBe(2);
  expect(io.errors[0]).toMatch(/^usage:/);
  expect(await runModelsCli(["load", "../etc"], io)).toBe(2);
  expect(io.errors.at(-1)).toMatch(/invalid model name/);
  expect(await runModelsCli(["load", "no_such_model"], io)).toBe(1);
  expect(io.errors.at(-1)).toMatch(/no_such_model is not in Triton's repository/);
});
