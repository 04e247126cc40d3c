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
import { MorganClient } from "../packages/morgan-client/src/index";
import { withTimeout } from "../src/api/app";
import { CLOSE_CODES } from "../src/protocol/messages";
import { Balancer } from "./helpers/balancer";
import { TcpProxy } from "./helpers/tcp-proxy";
import { Redis } from "ioredis";
import { redisKeys } from "../src/storage/keys";
import { JOURNAL_FILE } from "../src/storage/pending-writes";
import { TestClient, type Received } from "./pipeline/support/client";
import { createDatabase, dropDatabase, REDIS_URL, type RunningServer, startServer } from "./pipeline/support/server";

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

/**
 * No two different messages share a number, and each socket's numbers increase. (A message may reach
 * both the old socket and, replayed, the new one while a live owner lets go: the same message twice,
 * which a client drops by its seq.)
 */
function expectNoConflict(...sockets: Received[][]): void {
  const bySeq = new Map<number, string>();
  for (const messages of sockets) {
    const seqs = messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    for (const m of messages) {
      const json = JSON.stringify(m);
      expect(bySeq.get(m.seq) ?? json).toBe(json);
      bySeq.set(m.seq, json);
    }
  }
}

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
    // Beside the test's own client, the client library, through a balancer, as an application runs it.
    const balancer = new Balancer([a.port, b.port]).start();
    const library = new MorganClient({ url: `ws://127.0.0.1:${balancer.port}/ws/stream` });
    await library.start();
    const libraryBack = library.once("state", (s) => s.state === "connected").then(() => performance.now());
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
    // The reply the crash cut is closed, not left hanging: stored as interrupted with what had been sent.
    const cutTurn = first.all("response_text")[0]!.data.turn_id;
    const cut = await second.next("interrupted", { where: (m) => m.data.turn_id === cutTurn });
    expect(cut.data.reason).toBe("server");
    expect(cut.data.heard_text.length).toBeGreaterThan(0);
    expect(cut.seq).toBeGreaterThan(resumed.seq);
    expect(first.all("response_complete")).toEqual([]);

    second.send({ type: "text", data: { text: "Are you still there?" } });
    const complete = await second.next("response_complete", { timeoutMs: 90_000 });
    expect(complete.seq).toBeGreaterThan(resumed.seq);
    expectOnceInOrder([...first.received, ...second.received]);
    const rows = await b.sql<{ role: string; content: string; interrupted: boolean; metadata: { turn_id?: string } }[]>`
      select role, content, interrupted, metadata from messages where conversation_id = ${started.data.conversation_id} order by sequence_number`;
    expect(rows.map((r) => [r.role, r.interrupted])).toEqual([["user", false], ["assistant", true], ["user", false], ["assistant", false]]);
    expect(rows[1]!.content).toBe(cut.data.heard_text);
    expect(rows[1]!.metadata.turn_id).toBe(cutTurn);
    expect(rows[3]!.content).toBe(complete.data.text);

    // The library reconnected by itself (after its back-off) and resumed on B.
    const libraryResumedAt = await withTimeout(libraryBack, 30_000, "the library to resume after the crash");
    console.log(`[gateways] kill -9: fault to the library's resumed session on the other instance, its back-off included: ${Math.round(libraryResumedAt - faultAt)} ms`);
    expect(library.stats).toMatchObject({ resumes: 1, gaps: 0 });
    const answered = library.once("response_complete");
    library.text("Hello again.");
    await withTimeout(answered, 90_000, "the library's reply on the other instance");
    library.close();
    balancer.stop();
    second.close();
    await stop(b);
  }, 240_000);

  test("writes the dead instance journalled while PostgreSQL was away are replayed when it restarts, once", async () => {
    // PostgreSQL reached through a proxy the test cuts: the instance journals its writes to disk.
    const proxy = new TcpProxy("127.0.0.1", 5432).start();
    const viaProxy = new URL(databaseUrl);
    viaProxy.port = String(proxy.port);
    const env = { DATABASE_URL: viaProxy.toString(), MORGAN_DB_RECONNECT_INTERVAL_MS: "200", MORGAN_POSTGRES_CONNECT_TIMEOUT_S: "1" };
    const a = await instance(env);
    try {
      const client = await TestClient.connect(`${a.wsUrl}/ws/stream`);
      client.send({ type: "start", data: { max_response_tokens: 20 } });
      const started = await client.next("session_started");
      proxy.cut();
      client.send({ type: "text", data: { text: "Remember the word lighthouse." } });
      const complete = await client.next("response_complete", { timeoutMs: 90_000 });
      const journal = await Bun.file(join(a.journalDir, JOURNAL_FILE)).text();
      expect(journal).toContain("Remember the word lighthouse.");
      await stop(a, "SIGKILL");
      client.close();

      proxy.restore();
      const restarted = await instance(env, a.journalDir);
      const rows = async () =>
        restarted.sql<{ role: string; content: string }[]>`
          select role, content from messages where conversation_id = ${started.data.conversation_id} order by sequence_number`;
      const deadline = Date.now() + 30_000;
      while ((await rows()).length < 2 && Date.now() < deadline) await Bun.sleep(200);
      expect((await rows()).map((r) => [r.role, r.content])).toEqual([
        ["user", "Remember the word lighthouse."],
        ["assistant", complete.data.text],
      ]);
      await stop(restarted);
    } finally {
      proxy.stop();
    }
  }, 240_000);
});

describe("an instance drained (SIGTERM)", () => {
  test("clients are told going_away, the reply in progress finishes, the socket closes with 1001, and both clients resume on the other instance", async () => {
    const a = await instance({ MORGAN_DRAIN_MS: "30000", MORGAN_SHUTDOWN_TIMEOUT_MS: "40000" });
    const b = await instance();
    const balancer = new Balancer([a.port, b.port]).start();
    const url = `ws://127.0.0.1:${balancer.port}`;
    const library = new MorganClient({ url: `${url}/ws/stream`, reconnect: { initialDelayMs: 2000, maxDelayMs: 2000 } });
    try {
      // The tests' client, mid-reply when the drain begins.
      const talking = await TestClient.connect(`${url}/ws/stream`, { resume: true });
      talking.send({ type: "start", data: { max_response_tokens: 60 } });
      const started = await talking.next("session_started");
      // The client library, idle.
      const libraryStarted = await library.start();
      const goingAway = library.once("going_away");
      const libraryBack = library.once("state", (s) => s.state === "connected");
      talking.send({ type: "text", data: { text: "Describe a lighthouse in three sentences." } });
      await talking.next("response_audio", { timeoutMs: 60_000, where: (m) => m.data.duration_ms > 0 });

      const faultAt = performance.now();
      const exited = stop(a, "SIGTERM");
      const notice = await talking.next("going_away");
      const firstAfterFault = performance.now() - faultAt;
      expect(notice.data).toEqual({ session_id: started.data.session_id, resume_token: started.data.resume_token, deadline_ms: 30_000 });
      expect((await withTimeout(goingAway, 10_000, "going_away at the library")).data.session_id).toBe(libraryStarted.data.session_id);

      // The reply started before the drain completes on A, before the socket closes.
      const complete = await talking.next("response_complete", { timeoutMs: 60_000 });
      const resumed = await talking.next("session_started", { timeoutMs: 30_000, where: (m) => m.data.resumed });
      expect(talking.reconnections.map((r) => r.code)).toEqual([CLOSE_CODES.goingAway]);
      expect(talking.received.indexOf(complete)).toBeLessThan(talking.received.indexOf(resumed));
      const reconnectMs = performance.now() - talking.reconnections[0]!.downAt;
      expect(await exited).toBe(0);
      console.log(`[gateways] drain: fault to the session's next message ${Math.round(firstAfterFault)} ms; 1001 to resumed on the other instance ${Math.round(reconnectMs)} ms`);

      // Nothing lost, nothing twice, and the session goes on on B.
      expectOnceInOrder(talking.received);
      talking.send({ type: "text", data: { text: "Thank you." } });
      await talking.next("response_complete", { from: talking.received.indexOf(resumed), timeoutMs: 90_000 });
      const rows = await b.sql<{ role: string; interrupted: boolean }[]>`
        select role, interrupted from messages m join conversations c on c.id = m.conversation_id
        where c.id = ${started.data.conversation_id} order by sequence_number`;
      expect(rows.map((r) => [r.role, r.interrupted])).toEqual([["user", false], ["assistant", false], ["user", false], ["assistant", false]]);

      // The library resumed at once after the 1001 (its back-off would have waited 1 s or more).
      await withTimeout(libraryBack, 30_000, "the library to resume");
      expect(library.stats).toMatchObject({ resumes: 1, gaps: 0 });
      const answered = library.once("response_complete");
      library.text("Hello again.");
      await withTimeout(answered, 90_000, "the library's reply on the other instance");
      talking.close();
    } finally {
      library.close();
      balancer.stop();
      await stop(b);
    }
  }, 300_000);
});

describe("a second socket resumes a live session", () => {
  test("on the same instance: the first socket closes with 4003 and receives nothing more", async () => {
    const a = await instance();
    try {
      const first = await TestClient.connect(`${a.wsUrl}/ws/stream`);
      first.send({ type: "start" });
      const started = await first.next("session_started");
      first.send({ type: "ping", data: { timestamp: 1 } });
      await first.next("pong");
      const second = await resume(a.wsUrl, started, first.lastSeq);
      const resumed = await second.next("session_started", { where: (m) => m.data.resumed });
      expect((await first.closed()).code).toBe(CLOSE_CODES.sessionReplaced);
      second.send({ type: "ping", data: { timestamp: 2 } });
      const pong = await second.next("pong", { where: (m) => m.data.timestamp === 2 });
      expect(pong.seq).toBe(resumed.seq + 1);
      expect(first.received.every((m) => m.seq < resumed.seq)).toBe(true);
      expectOnceInOrder([...first.received, ...second.received]);
      second.close();
    } finally {
      await stop(a);
    }
  }, 120_000);

  test("on another instance: the lease moves, the old owner lets go at once (4003), and the session carries on there", async () => {
    const a = await instance();
    const b = await instance();
    const redis = new Redis(REDIS_URL);
    try {
      const first = await TestClient.connect(`${a.wsUrl}/ws/stream`);
      first.send({ type: "start" });
      const started = await first.next("session_started");
      const ownerKey = redisKeys.sessionOwner(started.data.session_id);
      const ownerA = await redis.get(ownerKey);
      expect(ownerA).toBeTruthy();
      // Taken over mid-reply: exactly one of the two instances stores the cut reply.
      first.send({ type: "text", data: { text: "Tell me a long story about a lighthouse keeper and the sea." } });
      await first.next("response_audio", { timeoutMs: 60_000, where: (m) => m.data.duration_ms > 0 });
      const cutTurn = first.all("response_text")[0]!.data.turn_id;

      const takeoverAt = performance.now();
      const second = await resume(b.wsUrl, started, first.lastSeq);
      const resumed = await second.next("session_started", { where: (m) => m.data.resumed });
      expect((await first.closed(5_000)).code).toBe(CLOSE_CODES.sessionReplaced);
      console.log(`[gateways] takeover across instances: old socket closed ${Math.round(performance.now() - takeoverAt)} ms after the resume was sent`);
      const ownerB = await redis.get(ownerKey);
      expect(ownerB).toBeTruthy();
      expect(ownerB).not.toBe(ownerA);

      second.send({ type: "text", data: { text: "Say goodbye." } });
      await second.next("response_complete", { timeoutMs: 90_000 });
      expect(resumed.seq).toBeGreaterThan(first.lastSeq);
      expectNoConflict(first.received, second.received);
      // The old owner's copy ended without ending the session: still active, with both turns stored once.
      const [row] = await b.sql<{ status: string }[]>`select status from streaming_sessions where session_id = ${started.data.session_id}`;
      expect(row?.status).toBe("active");
      const rows = await b.sql<{ role: string; interrupted: boolean; metadata: { turn_id?: string } }[]>`
        select role, interrupted, metadata from messages where conversation_id = ${started.data.conversation_id} order by sequence_number`;
      // The cut reply is stored once, by whichever instance got it (the old owner, letting go, may store
      // it after the next question reached the new one).
      const cutRows = rows.filter((r) => r.role === "assistant" && r.metadata.turn_id === cutTurn);
      expect(cutRows.map((r) => r.interrupted)).toEqual([true]);
      expect(rows.filter((r) => !cutRows.includes(r)).map((r) => [r.role, r.interrupted])).toEqual([["user", false], ["user", false], ["assistant", false]]);
      second.close();
    } finally {
      redis.disconnect();
      await Promise.all([stop(a), stop(b)]);
    }
  }, 240_000);
});
