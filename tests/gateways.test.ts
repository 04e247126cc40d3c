/**
 * Gateways that may die (issue 15, part 1): two real Morgan processes on one PostgreSQL database, the
 * shared Redis and the shared Triton. A session survives its instance being killed (-9) or drained
 * (SIGTERM): the client resumes on the other instance, every message it acknowledged is kept, none
 * comes twice, and the numbering continues. Each test prints the disruption it measured: the time
 * from the fault to the session's next message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient, type Received } from "./pipeline/support/client";
import { createDatabase, dropDatabase, type RunningServer, startServer } from "./pipeline/support/server";

const REPLY_ENV = {
  MORGAN_SYSTEM_PROMPT: "You are Morgan. Answer in at least five full sentences.",
  MORGAN_MAX_RESPONSE_TOKENS: "200",
};

let databaseUrl: string;
const running = new Set<RunningServer>();

/** An instance with its own write journal, as every process must have (docs/storage.md). */
async function instance(env: Record<string, string> = {}, journalDir = mkdtempSync(join(tmpdir(), "morgan-gw-"))) {
  const server = await startServer({ databaseUrl, env: { ...REPLY_ENV, MORGAN_JOURNAL_DIR: journalDir, ...env } });
  running.add(server);
  return Object.assign(server, { journalDir });
}

async function stop(server: RunningServer, signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
  running.delete(server);
  return server.stop(signal);
}

beforeAll(async () => {
  databaseUrl = await createDatabase();
}, 30_000);
afterAll(async () => {
  await Promise.allSettled([...running].map((server) => server.stop("SIGKILL")));
  await dropDatabase(databaseUrl);
}, 60_000);

/** Every message once, numbered in increasing order across the sockets of one session. */
function expectOnceInOrder(messages: Received[]): void {
  const seqs = messages.map((m) => m.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
}

async function resume(url: string, started: Extract<Received, { type: "session_started" }>, lastSeq: number) {
  const client = await TestClient.connect(`${url}/ws/stream`);
  client.send({ type: "resume", data: { session_id: started.data.session_id, resume_token: started.data.resume_token, last_seq: lastSeq } });
  return client;
}

describe("an instance killed (-9) mid-reply", () => {
  test("the client resumes on another instance; numbering continues above the dead one's, nothing lost or repeated", async () => {
    const a = await instance();
    const b = await instance();
    const first = await TestClient.connect(`${a.wsUrl}/ws/stream`);
    first.send({ type: "start" });
    const started = await first.next("session_started");
    first.send({ type: "text", data: { text: "Tell me a long story about a lighthouse keeper and the sea." } });
    // Mid-reply: some of the reply's audio has gone out.
    await first.next("response_audio", { timeoutMs: 60_000, where: (m) => m.data.duration_ms > 0 });
    await Bun.sleep(300);

    const faultAt = performance.now();
    await stop(a, "SIGKILL");
    await first.closed();
    const lastSeq = first.received.at(-1)!.seq;
    const second = await resume(b.wsUrl, started, lastSeq);
    const resumed = await second.next("session_started", { where: (m) => m.data.resumed });
    const disruptionMs = performance.now() - faultAt;
    console.log(`[gateways] kill -9: fault to the session's next message on the other instance: ${Math.round(disruptionMs)} ms`);

    expect(resumed.seq).toBeGreaterThan(lastSeq);
    second.send({ type: "text", data: { text: "Are you still there?" } });
    const complete = await second.next("response_complete", { timeoutMs: 90_000 });
    expect(complete.seq).toBeGreaterThan(resumed.seq);
    expectOnceInOrder([...first.received, ...second.received]);
    second.close();
    await stop(b);
  }, 240_000);
});
