/**
 * Storage latency benchmark: `bun run bench/storage.ts`.
 * Targets from the design notes: session-state read from Redis p99 < 1 ms; conversation-context
 * lookup p99 < 5 ms. Uses the real PostgreSQL and Redis (a throw-away database and key prefix),
 * prints median/p95/p99 per operation with the command and machine, and writes
 * bench/results/storage.json. Exits 1 when a target is missed.
 * Env: MORGAN_BENCH_ITERATIONS (default 5000), MORGAN_TEST_POSTGRES_URL, MORGAN_TEST_REDIS_URL.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pino from "pino";
import postgres from "postgres";
import { loadConfig } from "../src/config/index.ts";
import { openStorage, type Storage } from "../src/storage/index.ts";

const ADMIN_URL = process.env.MORGAN_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.MORGAN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const ITERATIONS = Number(process.env.MORGAN_BENCH_ITERATIONS ?? 5000);
const WARMUP = 500;

interface Summary {
  iterations: number;
  medianMs: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

function summarise(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return { iterations: samples.length, medianMs: round(at(0.5)), p95Ms: round(at(0.95)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1)!) };
}

async function measure(iterations: number, operation: (i: number) => Promise<unknown>, beforeEach?: () => void): Promise<Summary> {
  for (let i = 0; i < Math.min(WARMUP, iterations); i++) {
    beforeEach?.();
    await operation(i);
  }
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    beforeEach?.();
    const started = performance.now();
    await operation(i);
    samples.push(performance.now() - started);
  }
  return summarise(samples);
}

async function serverVersions(url: string): Promise<{ postgres: string; redis: string }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const redis = new Redis(REDIS_URL);
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    const info = await redis.info("server");
    return { postgres: row!.server_version, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown" };
  } finally {
    await sql.end();
    redis.disconnect();
  }
}

async function seed(storage: Storage): Promise<string> {
  const conversation = await storage.conversations.createConversation({ userId: "bench-user" });
  const sentence = "The quick brown fox jumps over the lazy dog while Morgan keeps the context short and relevant. ";
  for (let i = 0; i < 40; i++) {
    await storage.conversations.appendMessage(conversation.id, { role: i % 2 ? "assistant" : "user", content: sentence.repeat(2) + i });
  }
  return conversation.id;
}

async function main(): Promise<number> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const databaseName = `morgan_bench_${randomBytes(5).toString("hex")}`;
  await admin.unsafe(`create database ${databaseName}`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${databaseName}`;
  const prefix = `morgan-bench-${randomBytes(4).toString("hex")}:`;
  const config = loadConfig({
    file: null,
    env: { DATABASE_URL: databaseUrl.toString(), REDIS_URL, MORGAN_REDIS_KEY_PREFIX: prefix, MORGAN_JOURNAL_DIR: `/tmp/${databaseName}`, LOG_LEVEL: "silent" },
  });
  const storage = await openStorage(config, pino({ level: "silent" }));
  try {
    if (storage.cache.mode !== "redis") throw new Error(`Redis is required at ${REDIS_URL}; start it with scripts/services.sh start`);
    const conversationId = await seed(storage);
    const sessionIds = Array.from({ length: 100 }, (_, i) => `bench-session-${i}`);
    for (const id of sessionIds) {
      await storage.sessionCache.setState(id, { phase: "listening", conversationId, userId: "bench-user", turn: 12, vad: { speaking: false, silenceMs: 340 } });
    }
    const manager = storage.conversations;
    const results = {
      sessionStateReadRedis: await measure(ITERATIONS, (i) => storage.sessionCache.getState(sessionIds[i % sessionIds.length]!)),
      sessionStateWriteRedis: await measure(ITERATIONS, (i) => storage.sessionCache.setState(sessionIds[i % sessionIds.length]!, { phase: "thinking", i })),
      contextLookupMemoryTier: await measure(ITERATIONS, () => manager.getContext(conversationId)),
      contextLookupRedisTier: await measure(ITERATIONS, () => manager.getContext(conversationId), () => manager.clearMemoryTier()),
      contextLookupPostgresTier: await measure(Math.min(ITERATIONS, 1000), async () => {
        manager.clearMemoryTier();
        await storage.cache.delete(`conv:messages:${conversationId}`);
        return manager.getContext(conversationId);
      }),
      messageAppendPostgres: await measure(Math.min(ITERATIONS, 1000), (i) => manager.appendMessage(conversationId, { role: "user", content: `bench ${i}` })),
    };
    const targets = {
      "session-state read from Redis p99 < 1 ms": results.sessionStateReadRedis.p99Ms < 1,
      "conversation-context lookup (Redis tier, memory cleared each time) p99 < 5 ms": results.contextLookupRedisTier.p99Ms < 5,
    };
    const cpus = os.cpus();
    const report = {
      command: "bun run bench/storage.ts",
      date: new Date().toISOString(),
      machine: {
        cpu: cpus[0]?.model ?? "unknown",
        cores: cpus.length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        bun: Bun.version,
        // The machine may be shared: tail latencies on 2 cores move with the load.
        loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
        ...(await serverVersions(databaseUrl.toString())),
      },
      setup: { iterations: ITERATIONS, warmup: WARMUP, contextMessages: 40, contextMaxTurns: config.conversation.contextMaxTurns, contextMaxChars: config.conversation.contextMaxChars },
      results,
      targets,
    };
    printReport(report);
    mkdirSync(join(import.meta.dir, "results"), { recursive: true });
    writeFileSync(join(import.meta.dir, "results", "storage.json"), `${JSON.stringify(report, null, 2)}\n`);
    return Object.values(targets).every(Boolean) ? 0 : 1;
  } finally {
    await storage.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
    await admin.end();
  }
}

function printReport(report: { command: string; machine: Record<string, unknown>; results: Record<string, Summary>; targets: Record<string, boolean> }): void {
  console.log(`command: ${report.command}`);
  console.log(`machine: ${Object.entries(report.machine).map(([key, value]) => `${key}=${value}`).join(", ")}`);
  console.log("operation                        n      median ms   p95 ms   p99 ms   max ms");
  for (const [name, summary] of Object.entries(report.results)) {
    console.log(
      `${name.padEnd(32)} ${String(summary.iterations).padEnd(6)} ${summary.medianMs.toFixed(3).padStart(9)} ${summary.p95Ms.toFixed(3).padStart(8)} ${summary.p99Ms.toFixed(3).padStart(8)} ${summary.maxMs.toFixed(3).padStart(8)}`,
    );
  }
  for (const [target, met] of Object.entries(report.targets)) console.log(`${met ? "PASS" : "FAIL"}  ${target}`);
}

process.exit(await main());
