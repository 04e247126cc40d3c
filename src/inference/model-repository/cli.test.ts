/** The operators' model tool against the real Triton (TRITON_URL). */
import { expect, test } from "bun:test";
import { type CliIo, runModelsCli } from "./cli";

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), tritonUrl: process.env.TRITON_URL ?? "127.0.0.1:8101" };
}

const stateOf = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name} `))?.split(/\s+/)[2];

test("validate passes on both shipped repositories", async () => {
  const io = capture();
  expect(await runModelsCli(["validate"], io)).toBe(0);
  expect(io.lines.length).toBe(2);
  expect(io.errors).toEqual([]);
});

test("list, unload, load and reload a model through Triton's repository API", async () => {
  const io = capture();
  expect(await runModelsCli(["list"], io)).toBe(0);
  expect(stateOf(io.lines, "tts")).toBe("READY");
  expect(await runModelsCli(["unload", "tts"], io)).toBe(0);
  const afterUnload = capture();
  await runModelsCli(["list"], afterUnload);
  expect(stateOf(afterUnload.lines, "tts")).toBe("UNAVAILABLE");
  expect(await runModelsCli(["load", "tts"], io)).toBe(0);
  expect(await runModelsCli(["reload", "tts"], io)).toBe(0);
  const afterLoad = capture();
  await runModelsCli(["list"], afterLoad);
  expect(stateOf(afterLoad.lines, "tts")).toBe("READY");
}, 120_000);

test("bad usage and unknown models are reported, not thrown", async () => {
  const io = capture();
  expect(await runModelsCli(["frobnicate"], io)).toBe(2);
  expect(io.errors[0]).toMatch(/^usage:/);
  expect(await runModelsCli(["load", "../etc"], io)).toBe(2);
  expect(await runModelsCli(["load", "no_such_model"], io)).toBe(1);
  expect(io.errors.at(-1)).toMatch(/no_such_model/);
});
