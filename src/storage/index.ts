/**
 * Opens every storage component for a Config and ties their lifecycles together.
 * Nothing here throws because PostgreSQL or Redis is down: both are retried in the background
 * while the in-process tiers and the write journal serve.
 */
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { Observers } from "../telemetry/events.ts";
import { createCache, type CacheMode, type FailoverCache } from "./cache.ts";
import { type DatabaseHandle, type DatabaseMode, openDatabase, usesPostgresServer } from "./db.ts";
import { DurableWriter } from "./durable-writer.ts";
import { ConversationManager } from "./conversations.ts";
import { PendingWriteQueue } from "./pending-writes.ts";
import { SessionCache } from "./session-cache.ts";
import { StreamingSessionRepository, TranscriptionRepository, TtsCacheRepository } from "./sessions.ts";

export interface ProbeResult {
  status: "up" | "down";
  latencyMs: number | null;
  error?: string;
}

export interface StorageHealth {
  postgres: ProbeResult & { mode: DatabaseMode; pendingWrites: number; migrated: boolean };
  redis: ProbeResult & { mode: CacheMode; configured: boolean };
}

export interface Storage {
  readonly database: DatabaseHandle;
  readonly writer: DurableWriter;
  readonly cache: FailoverCache;
  readonly conversations: ConversationManager;
  readonly sessionCache: SessionCache;
  readonly streamingSessions: StreamingSessionRepository;
  readonly transcriptions: TranscriptionRepository;
  readonly ttsCache: TtsCacheRepository;
  /** Migrations applied and the database reachable (or its writes safely journaled). */
  isReady(): boolean;
  health(): Promise<StorageHealth>;
  /** Tries once more to write queued writes, then closes pools and connections. */
  close(): Promise<void>;
}

/** `observers` hear of tier changes, failed operations and the journal's depth (src/telemetry/events.ts). */
export async function openStorage(config: Config, logger: Logger, observers = new Observers()): Promise<Storage> {
  const log = logger.child({ component: "storage" });
  const database = openDatabase(config.postgres);
  // PGlite is in-process and never "away", so only a PostgreSQL server needs the journal on disk.
  const queue = new PendingWriteQueue(usesPostgresServer(config.postgres) ? config.storage.journalDir : null);
  if (queue.size > 0) log.warn({ pending_writes: queue.size }, "journal holds writes from a previous run; replaying when postgres answers");
  observers.provide("journal_depth", () => queue.size);
  const cache = createCache(config, logger, observers);
  let conversations: ConversationManager | null = null;
  const writer = new DurableWriter(database, queue, logger.child({ component: "postgres" }), {
    reconnectIntervalMs: config.storage.reconnectIntervalMs,
    pingTimeoutMs: Math.max(config.storage.probeTimeoutMs, config.postgres.connectTimeoutS * 1000),
    onDrained: (writes) => conversations?.invalidateAfterReplay(writes),
    observers,
  });
  conversations = new ConversationManager(writer, cache, { cache: config.cache, conversation: config.conversation }, log);
  await Promise.all([cache.connect(), writer.start()]);
  log.info({ database: database.mode, cache: cache.mode, migrated: writer.migrated }, "storage opened");

  return {
    database,
    writer,
    cache,
    conversations,
    sessionCache: new SessionCache(cache, config.cache),
    streamingSessions: new StreamingSessionRepository(writer),
    transcriptions: new TranscriptionRepository(writer),
    ttsCache: new TtsCacheRepository(writer),
    isReady: () => writer.migrated,
    health: () => probeStorage(writer, cache, config.storage.probeTimeoutMs),
    close: async () => {
      await writer.flush();
      writer.stop();
      if (queue.size > 0) log.warn({ pending_writes: queue.size }, "closing with journaled writes; they are replayed on next start");
      await Promise.allSettled([cache.close(), database.close()]);
    },
  };
}

async function probeStorage(writer: DurableWriter, cache: FailoverCache, timeoutMs: number): Promise<StorageHealth> {
  const [postgres, redis] = await Promise.all([
    timeProbe(() => writer.probe(), timeoutMs),
    cache.redisConfigured ? timeProbe(() => cache.ping(), timeoutMs) : Promise.resolve<ProbeResult>({ status: "down", latencyMs: null, error: "not configured" }),
  ]);
  return {
    postgres: { ...postgres, mode: writer.handle.mode, pendingWrites: writer.pendingCount, migrated: writer.migrated },
    redis: { ...redis, mode: cache.mode, configured: cache.redisConfigured },
  };
}

/** Runs a probe with a deadline; the latency is measured here, around the whole call. */
export async function timeProbe(probe: () => Promise<unknown>, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), deadline]);
    return { status: "up", latencyMs: round(performance.now() - started) };
  } catch (error) {
    return { status: "down", latencyMs: null, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export { ConversationManager, type AppendMessageInput, type ContextOptions, type CreateConversationInput, type PageOptions } from "./conversations.ts";
export { ConflictError, InvalidCursorError, NotFoundError, StorageUnavailableError } from "./errors.ts";
export { redisKeys } from "./keys.ts";
export type { Conversation, Message, Page, StreamingSession } from "./records.ts";
export { SessionCache } from "./session-cache.ts";
export { hashTtsText, StreamingSessionRepository, TranscriptionRepository, TtsCacheRepository, type TtsEntry, type TtsKey } from "./sessions.ts";
