/**
 * scripts/triton/supervise.py against a real tritonserver of the test's own (the `turn` model only,
 * the quickest to load): it restarts a server that dies, kills and restarts one that hangs, and
 * stop.sh leaves no process behind.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { appendFileSync, readFileSync, readdirSync } from "node:fs";
import { PrivateTriton } from "../helpers/private-triton.ts";
import { processAlive, waitFor } from "../helpers/services.ts";

const triton = new PrivateTriton(["turn"], { TRITON_PROBE_INTERVAL_S: "0.5", TRITON_PROBE_TIMEOUT_S: "1", TRITON_PROBE_FAILURES: "3", TRITON_KILL_GRACE_S: "2" });
beforeAll(() => triton.start(), 120_000);
afterAll(() => triton.stop(), 60_000);

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Waits until the supervisor has seen the current server live, so that a fault counts as one after start-up. */
async function liveServer(): Promise<number> {
  await waitFor(() => triton.ready(), 60_000, "the private Triton to be ready");
  const pid = triton.serverPid();
  await waitFor(() => triton.log().includes(`tritonserver (pid ${pid}) is live`), 10_000, "the supervisor to probe the server");
  return pid;
}

/** Waits for a different server pid whose models are ready again. */
async function restartedAfter(pid: number): Promise<number> {
  await waitFor(async () => triton.serverPid() !== pid && (await triton.ready()), 90_000, "the supervisor to restart tritonserver");
  return triton.serverPid();
}

test("a server that is killed (kill -9) is restarted, and the restart is logged with its reason", async () => {
  const pid = await liveServer();
  process.kill(pid, "SIGKILL");
  const next = await restartedAfter(pid);
  expect(next).not.toBe(pid);
  expect(triton.log()).toContain("restarting: tritonserver exited with signal 9");
}, 120_000);

test("a server that stops answering (SIGSTOP, standing in for 2.51's hang after a double free) is killed and restarted", async () => {
  const pid = await liveServer();
  // A stopped process cannot act on SIGTERM, like the hung 2.51 that ignores it: SIGKILL must follow.
  process.kill(pid, "SIGSTOP");
  const next = await restartedAfter(pid);
  expect(next).not.toBe(pid);
  expect(processAlive(pid)).toBe(false);
  const log = triton.log();
  expect(log).toContain("restarting: health probe failed 3 times in a row (hung)");
  expect(log).toContain(`tritonserver (pid ${pid}) ignored SIGTERM for 2 s; SIGKILL`);
}, 120_000);

test("a server that logs one of 2.51's fatal errors and stays up is killed and restarted", async () => {
  const pid = await liveServer();
  // Stand-in: the real assertion needs a cancellation storm and strikes at random, so the line the
  // crashed server writes is appended to its log by hand.
  const before = count(triton.log(), "fatal line in the log");
  appendFileSync(`${triton.runDir}/triton.log`, "E1202 00:00:00.000000 1 infer_request.cc:1] ASSERTION FAILED: ops_\n");
  const next = await restartedAfter(pid);
  expect(next).not.toBe(pid);
  expect(count(triton.log(), "fatal line in the log")).toBe(before + 1);
  expect(triton.log()).toContain("restarting: it logged a fatal error and did not exit");
}, 120_000);

test("stop.sh stops the supervisor, the server and its python backend stubs", async () => {
  const pid = await liveServer();
  const supervisor = Number(readFileSync(`${triton.runDir}/triton-supervisor.pid`, "utf8").trim());
  const stubs = processesMentioning(triton.runDir).filter((p) => p !== pid && p !== supervisor);
  expect(stubs.length).toBeGreaterThan(0);
  await triton.stopServer();
  expect(processAlive(supervisor)).toBe(false);
  expect(processAlive(pid)).toBe(false);
  expect(processesMentioning(triton.runDir)).toEqual([]);
}, 60_000);

/** Pids of processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
