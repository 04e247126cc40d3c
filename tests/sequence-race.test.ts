/**
 * Racing appends to one conversation must give 1..N with no gap and no duplicate, whether the racers
 * are two connection pools in one process or two separate processes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { openStorage, type Storage } from "../src/storage/index.ts";
import { silentLogger, testConfig } from "./helpers/config.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/services.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

async function storedNumbers(url: string, conversationId: string): Promise<{ numbers: number[]; count: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ sequence_number: number }[]>`
      select sequence_number from messages where conversation_id = ${conversationId} order by sequence_number`;
    const [conversation] = await sql<{ message_count: number }[]>`select message_count from conversations where id = ${conversationId}`;
    return { numbers: rows.map((row) => row.sequence_number), count: conversation!.message_count };
  } finally {
    await sql.end();
  }
}

describe("sequence numbers under racing appends", () => {
  let database: TestDatabase;
  let first: Storage;
  let second: Storage;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = (dir: string) => ({ DATABASE_URL: database.url, MORGAN_POSTGRES_POOL_SIZE: "8", MORGAN_JOURNAL_DIR: dir });
    first = await openStorage(testConfig(env(`/tmp/morgan-race-a-${process.pid}`)), silentLogger());
    second = await openStorage(testConfig(env(`/tmp/morgan-race-b-${process.pid}`)), silentLogger());
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
  });

  test("two pools (two storages, standing in for two processes) appending at once", async () => {
    const conversation = await first.conversations.createConversation({ userId: "racer" });
    const perSide = 60;
    const appendAll = (storage: Storage, label: string) =>
      Promise.all(range(perSide).map((i) => storage.conversations.appendMessage(conversation.id, { role: "user", content: `${label}${i}` })));
    const [fromFirst, fromSecond] = await Promise.all([appendAll(first, "a"), appendAll(second, "b")]);
    const returned = [...fromFirst, ...fromSecond].map((m) => m.sequenceNumber).sort((a, b) => a - b);
    expect(returned).toEqual(range(2 * perSide));
    const stored = await storedNumbers(database.url, conversation.id);
    expect(stored.numbers).toEqual(range(2 * perSide));
    expect(stored.count).toBe(2 * perSide);
    // Once its memory entry expires (cache.memoryTtlS; cleared here), each side reads the whole race.
    for (const storage of [first, second]) {
      storage.conversations.clearMemoryTier();
      const context = await storage.conversations.getContext(conversation.id, { maxTurns: 3 });
      expect(context.map((m) => m.sequenceNumber)).toEqual([118, 119, 120]);
    }
  });

  test("two real processes appending at once", async () => {
    const conversation = await first.conversations.createConversation({ userId: "racer-processes" });
    const perProcess = 40;
    const spawnWorker = (label: string) =>
      Bun.spawn([process.execPath, "tests/fixtures/append-worker.ts", database.url, conversation.id, String(perProcess), label], {
        stdout: "pipe",
        stderr: "pipe",
      });
    const workers = [spawnWorker("p1"), spawnWorker("p2")];
    const outputs = await Promise.all(
      workers.map(async (worker) => {
        const [stdout, stderr, code] = await Promise.all([new Response(worker.stdout).text(), new Response(worker.stderr).text(), worker.exited]);
        if (code !== 0) throw new Error(`worker failed (${code}): ${stderr}`);
        return JSON.parse(stdout.trim().split("\n").at(-1)!) as number[];
      }),
    );
    expect(outputs.flat().sort((a, b) => a - b)).toEqual(range(2 * perProcess));
    expect((await storedNumbers(database.url, conversation.id)).numbers).toEqual(range(2 * perProcess));
  }, 60_000);

  test("the unique index refuses a duplicate number even if the lock were bypassed", async () => {
    const conversation = await first.conversations.createConversation({ userId: "racer-backstop" });
    await first.conversations.appendMessage(conversation.id, { role: "user", content: "one" });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await expect(
        sql`insert into messages (conversation_id, role, content, sequence_number) values (${conversation.id}, 'user', 'dup', 1)`,
      ).rejects.toMatchObject({ code: "23505" });
    } finally {
      await sql.end();
    }
  });
});
