/**
 * PostgreSQL unreachable, then back: a TCP proxy we control stands between Morgan and the real server
 * and drops every connection (a socket-level fault). Nothing acknowledged may be lost: queued writes
 * reach PostgreSQL in order, exactly once, also across a process restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createApp, Lifecycle } from "../src/api/app.ts";
import { startTelemetry } from "../src/telemetry/index.ts";
import type { Config } from "../src/config/schema.ts";
import { openStorage, type Storage } from "../src/storage/index.ts";
import { type Observation, Observers } from "../src/telemetry/events.ts";
import { JOURNAL_FILE } from "../src/storage/pending-writes.ts";
import { capturingLogger, testConfig } from "./helpers/config.ts";
import { createTestDatabase, type TestDatabase, waitFor } from "./helpers/services.ts";
import { TcpProxy } from "./helpers/tcp-proxy.ts";

const ADMIN = new URL(process.env.MORGAN_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");

interface StoredMessage {
  id: string;
  content: string;
  sequence_number: number;
}

describe("PostgreSQL outage", () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let config: Config;
  let direct: postgres.Sql;
  const opened: Storage[] = [];
  const { logger, lines } = capturingLogger("info");

  const open = async (observers?: Observers) => {
    const storage = await openStorage(config, logger, observers);
    opened.push(storage);
    return storage;
  };
  const stored = (conversationId: string) =>
    direct<StoredMessage[]>`select id, content, sequence_number from messages where conversation_id = ${conversationId} order by sequence_number`;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = new TcpProxy(ADMIN.hostname, Number(ADMIN.port || 5432)).start();
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    config = testConfig({
      DATABASE_URL: viaProxy.toString(),
      MORGAN_JOURNAL_DIR: mkdtempSync(join(tmpdir(), "morgan-outage-")),
      MORGAN_DB_RECONNECT_INTERVAL_MS: "100",
      MORGAN_POSTGRES_CONNECT_TIMEOUT_S: "1",
      MORGAN_PROBE_TIMEOUT_MS: "1500",
    });
    direct = postgres(database.url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    proxy?.restore();
    for (const storage of opened) await storage.close().catch(() => {});
    await direct?.end();
    proxy?.stop();
    await database?.drop();
  }, 30_000);

  test("writes during the outage are acknowledged, served, and land in order exactly once when it returns", async () => {
    const seen: Observation[] = [];
    const observers = new Observers();
    observers.add({ types: ["storage_tier", "storage_error"], observe: (o) => seen.push(o) });
    const storage = await open(observers);
    const manager = storage.conversations;
    const conversation = await manager.createConversation({ userId: "outage-user" });
    const before = [await manager.appendMessage(conversation.id, { role: "user", content: "m1" }), await manager.appendMessage(conversation.id, { role: "assistant", content: "m2" })];
    expect(before.map((m) => m.pending)).toEqual([undefined, undefined]);

    proxy.cut();
    const during = [];
    for (let i = 3; i <= 7; i++) during.push(await manager.appendMessage(conversation.id, { role: i % 2 ? "user" : "assistant", content: `m${i}` }));
    expect(during.every((m) => m.pending === true)).toBe(true);
    expect(during.map((m) => m.sequenceNumber)).toEqual([3, 4, 5, 6, 7]);
    const created = await manager.createConversation({ userId: "outage-user" });
    await manager.appendMessage(created.id, { role: "user", content: "new conversation, offline" });

    // Still serving: context from the upper tiers; REST reads that need PostgreSQL say 503, not 500.
    expect((await manager.getContext(conversation.id)).map((m) => m.content)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    const health = await storage.health();
    expect(health.postgres).toMatchObject({ status: "down", pendingWrites: 7 });
    expect(observers.read("journal_depth")).toBe(7);
    const { app } = createApp({ config, logger, storage, lifecycle: new Lifecycle(logger), telemetry: startTelemetry(config.telemetry, logger, "test") });
    const listed = await app.request(`/v1/conversations/${conversation.id}/messages`);
    expect(listed.status).toBe(503);
    const healthResponse = (await (await app.request("/health")).json()) as { status: string };
    expect(healthResponse.status).toBe("degraded");
    expect(lines.some((line) => String(line.msg).startsWith("postgres unreachable"))).toBe(true);

    proxy.restore();
    await waitFor(() => storage.writer.available && storage.writer.pendingCount === 0, 15_000, "the queue to drain");
    // The observer seam heard which tier took the writes, and the failures that moved them.
    const tiers = seen.flatMap((o) => (o.type === "storage_tier" && o.component === "database" ? [o.tier] : []));
    expect(tiers).toEqual(["postgres", "journal", "postgres"]);
    expect(seen.some((o) => o.type === "storage_error" && o.backend === "postgres" && o.kind === "unavailable")).toBe(true);
    expect(observers.read("journal_depth")).toBe(0);
    const rows = await stored(conversation.id);
    expect(rows.map((row) => row.content)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    expect(rows.map((row) => row.sequence_number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rows.map((row) => row.id)).toEqual([...before, ...during].map((m) => m.id));
    expect((await stored(created.id)).map((row) => row.content)).toEqual(["new conversation, offline"]);
    expect((await storage.health()).postgres).toMatchObject({ status: "up", pendingWrites: 0 });
    expect((await app.request(`/v1/conversations/${conversation.id}/messages`)).status).toBe(200);
    // After the replay the caches were dropped, and the next append continues the sequence.
    const next = await manager.appendMessage(conversation.id, { role: "user", content: "m8" });
    expect(next).toMatchObject({ sequenceNumber: 8 });
    expect(next.pending).toBeUndefined();
  }, 30_000);

  test("a process restart during the outage loses nothing: the journal is replayed on start, exactly once", async () => {
    const first = await open();
    const conversation = await first.conversations.createConversation({ userId: "restart-user" });
    await first.conversations.appendMessage(conversation.id, { role: "user", content: "r1" });

    proxy.cut();
    const acknowledged = [];
    for (let i = 2; i <= 4; i++) acknowledged.push(await first.conversations.appendMessage(conversation.id, { role: "user", content: `r${i}` }));
    await first.close(); // the process exits while PostgreSQL is still away
    const journal = readFileSync(join(config.storage.journalDir, JOURNAL_FILE), "utf8").trim().split("\n");
    expect(journal).toHaveLength(3);

    proxy.restore();
    const second = await open(); // a new process on the same journal
    await waitFor(() => second.writer.pendingCount === 0, 15_000, "the journal to drain");
    expect((await stored(conversation.id)).map((row) => [row.sequence_number, row.content])).toEqual([
      [1, "r1"], [2, "r2"], [3, "r3"], [4, "r4"],
    ]);

    // Crash between commit and journal trim: the same writes replayed again change nothing.
    await second.close();
    writeFileSync(join(config.storage.journalDir, JOURNAL_FILE), `${journal.join("\n")}\n`);
    const third = await open();
    await waitFor(() => third.writer.pendingCount === 0, 15_000, "the replayed journal to drain");
    expect((await stored(conversation.id)).map((row) => row.content)).toEqual(["r1", "r2", "r3", "r4"]);
    const [row] = await direct<{ message_count: number }[]>`select message_count from conversations where id = ${conversation.id}`;
    expect(row!.message_count).toBe(4);
  }, 40_000);

  test("shutdown flushes the queue when PostgreSQL is back; a write that can never apply is set aside, not blocking", async () => {
    const storage = await open();
    const conversation = await storage.conversations.createConversation({ userId: "flush-user" });
    proxy.cut();
    // A journaled write whose conversation no longer exists when it is replayed (deleted elsewhere).
    const doomed = await storage.conversations.createConversation({ userId: "flush-user" });
    await storage.conversations.appendMessage(doomed.id, { role: "user", content: "orphan" });
    await storage.conversations.appendMessage(conversation.id, { role: "user", content: "f1" });
    expect(storage.writer.pendingCount).toBe(3);
    const queued = storage.writer.queue.snapshot();
    // Drop the conversation.create so the orphan append can never apply.
    storage.writer.queue.shift();
    storage.writer.queue.persist();
    expect(queued[0]!.kind).toBe("conversation.create");
    proxy.restore();
    await storage.close(); // flush: one replay attempt before closing
    opened.splice(opened.indexOf(storage), 1);
    expect(readFileSync(join(config.storage.journalDir, JOURNAL_FILE), "utf8")).toBe("");
    expect((await stored(conversation.id)).map((row) => row.content)).toEqual(["f1"]);
    const deadLetters = readFileSync(join(config.storage.journalDir, "dead-letter.jsonl"), "utf8").trim().split("\n");
    expect(deadLetters.some((line) => line.includes('"orphan"'))).toBe(true);
    expect(lines.some((line) => line.msg === "queued write can never apply; moved to dead-letter journal")).toBe(true);
  }, 30_000);

  test("PostgreSQL unreachable at start: serves, is not ready, migrates and becomes ready when it appears", async () => {
    const fresh = await createTestDatabase();
    const lateProxy = new TcpProxy(ADMIN.hostname, Number(ADMIN.port || 5432)).start();
    lateProxy.cut();
    try {
      const url = new URL(fresh.url);
      url.port = String(lateProxy.port);
      const lateConfig = testConfig({
        DATABASE_URL: url.toString(),
        MORGAN_JOURNAL_DIR: mkdtempSync(join(tmpdir(), "morgan-late-")),
        MORGAN_DB_RECONNECT_INTERVAL_MS: "100",
        MORGAN_POSTGRES_CONNECT_TIMEOUT_S: "1",
      });
      const storage = await openStorage(lateConfig, logger);
      opened.push(storage);
      expect(storage.isReady()).toBe(false);
      lateProxy.restore();
      await waitFor(() => storage.isReady() && storage.writer.available, 15_000, "migrations after postgres appears");
      const conversation = await storage.conversations.createConversation({ userId: "late" });
      expect(conversation.id).toBeTruthy();
    } finally {
      lateProxy.stop();
      await fresh.drop();
    }
  }, 30_000);
});
