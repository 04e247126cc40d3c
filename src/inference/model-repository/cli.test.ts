/**
 * The operators' model tool against a real Triton of its own: a private server on spare ports with
 * just the tts model, so unloading it cannot disturb the other tests' Triton.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../tests/pipeline/support/server";
import { type CliIo, runModelsCli } from "./cli";

const ROOT = join(import.meta.dir, "../../..");
const workDir = mkdtempSync(join(tmpdir(), "morgan-models-cli-"));
let tritonEnv: Record<string, string>;
let tritonUrl = "";

async function runScript(script: string): Promise<void> {
  const child = Bun.spawn(["bash", join(ROOT, "scripts/triton", script)], { env: { ...process.env, ...tritonEnv }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`scripts/triton/${script} failed (${code}):\n${out}\n${err}`);
}

beforeAll(async () => {
  // A repository beside its own copy of triton-models/lib, where model.py finds its shared helpers.
  cpSync(join(ROOT, "triton-models/cpu/tts"), join(workDir, "repo/tts"), { recursive: true });
  cpSync(join(ROOT, "triton-models/lib"), join(workDir, "lib"), { recursive: true });
  await startPrivateTriton();
}, 180_000);

/**
 * Starts the private Triton on free ports, picking new ones once if another process took a port in
 * the seconds the model needs to load (this machine runs other servers too).
 */
async function startPrivateTriton(attempt = 1): Promise<void> {
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  tritonEnv = {
    TRITON_RUN_DIR: join(workDir, "run"),
    TRITON_MODEL_REPO: join(workDir, "repo"),
    TRITON_MODELS: "tts",
    TRITON_HTTP_PORT: String(http),
    TRITON_GRPC_PORT: String(grpc),
    TRITON_METRICS_PORT: String(metrics),
    TRITON_METRICS: "0",
  };
  tritonUrl = `127.0.0.1:${grpc}`;
  try {
    await runScript("start.sh");
  } catch (error) {
    if (attempt > 1 || !String(error).includes("already in use")) throw error;
    await startPrivateTriton(attempt + 1);
  }
}

afterAll(async () => {
  await runScript("stop.sh").finally(() => rmSync(workDir, { recursive: true, force: true }));
}, 60_000);

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), tritonUrl };
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
