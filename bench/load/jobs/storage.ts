/**
 * Storage under concurrency: Morgan's own storage layer (src/storage) against the real Redis and
 * PostgreSQL, with `concurrency` callers at once, each as a session would: its own session state in
 * Redis and its own conversation. The sequential per-tier figures come from bench/storage.ts.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { loadConfig } from "../../../src/config/index.ts";
import { openStorage, type Storage } from "../../../src/storage/index.ts";
import { createDatabase, dropDatabase, REDIS_URL } from "../../../tests/pipeline/support/server";
import { type Distribution, distribution } from "../../lib/stats";
import type { Job } from "../protocol";

export interface StorageOperationResult {
  operation: string;
  concurrency: number;
  /** In µs (memory-tier lookups take about one), summarised here: millions of samples are too many to send back. */
  latencyUs: Distribution | null;
  opsPerS: number;
  /** The cache tier serving after the run: "memory" means Morgan's cache had failed over from Redis. */
  cacheModeAfter: string;
}

const CONTEXT_MESSAGES = 20;

async function timed(concurrency: number, durationS: number, operation: (caller: number, i: number) => Promise<unknown>) {
  const latenciesMs: number[] = [];
  const until = performance.now() + durationS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, caller) => {
      for (let i = 0; performance.now() < until; i++) {
        const begun = performance.now();
        await operation(caller, i);
        latenciesMs.push(performance.now() - begun);
        // Memory-tier hits resolve without I/O: without a yield now and then the loop starves the
        // event loop for seconds, Redis replies go unread and Morgan's cache fails over to memory
        // (seen in the first runs). Not timed.
        if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  return { latenciesMs, opsPerS: latenciesMs.length / ((performance.now() - started) / 1000) };
}

export async function storageConcurrency(job: Extract<Job, { kind: "storage" }>): Promise<StorageOperationResult[]> {
  const databaseUrl = await createDatabase();
  const prefix = `morgan-bench-${randomBytes(4).toString("hex")}:`;
  const config = loadConfig({
    file: null,
    env: { DATABASE_URL: databaseUrl, REDIS_URL, MORGAN_REDIS_KEY_PREFIX: prefix, MORGAN_JOURNAL_DIR: `/tmp/${prefix.slice(0, -1)}`, LOG_LEVEL: "silent" },
  });
  let storage: Storage | undefined;
  try {
    storage = await openStorage(config, pino({ level: "silent" }));
    if (storage.cache.mode !== "redis") throw new Error(`Redis is required at ${REDIS_URL}`);
    const maxCallers = Math.max(...job.levels);
    const conversations: string[] = [];
    for (let caller = 0; caller < maxCallers; caller++) {
      const conversation = await storage.conversations.createConversation({ userId: `bench-${caller}` });
      for (let m = 0; m < CONTEXT_MESSAGES; m++) {
        await storage.conversations.appendMessage(conversation.id, { role: m % 2 ? "assistant" : "user", content: `A sentence of about the length people say to an assistant, number ${m}.` });
      }
      conversations.push(conversation.id);
      await storage.sessionCache.setState(`bench-session-${caller}`, { phase: "listening", conversationId: conversation.id, turn: 3 });
    }
    const s = storage;
    const operations: Record<string, (caller: number, i: number) => Promise<unknown>> = {
      "session state read (Redis)": (caller) => s.sessionCache.getState(`bench-session-${caller}`),
      "session state write (Redis)": (caller, i) => s.sessionCache.setState(`bench-session-${caller}`, { phase: "thinking", turn: i }),
      "context lookup (as a turn does: memory tier, then Redis, then PostgreSQL)": (caller) => s.conversations.getContext(conversations[caller]!),
      "message append (PostgreSQL, cache updated)": (caller, i) => s.conversations.appendMessage(conversations[caller]!, { role: "user", content: `bench message ${i}` }),
    };
    const results: StorageOperationResult[] = [];
    for (const concurrency of job.levels) {
      for (const [operation, run] of Object.entries(operations)) {
        const { latenciesMs, opsPerS } = await timed(concurrency, job.durationS, run);
        results.push({ operation, concurrency, latencyUs: distribution(latenciesMs.map((ms) => ms * 1000)), opsPerS, cacheModeAfter: s.cache.mode });
      }
    }
    return results;
  } finally {
    await storage?.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await dropDatabase(databaseUrl);
  }
}
