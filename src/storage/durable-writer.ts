/**
 * Tracks whether PostgreSQL is reachable and routes writes: straight to PostgreSQL when it is and
 * nothing is queued; otherwise into the journaled PendingWriteQueue (order is kept: once anything is
 * queued, later writes queue behind it). A background loop reconnects, applies migrations if they
 * never ran, and drains the queue in order; then PostgreSQL serves directly again.
 */
import type { Logger } from "pino";
import type { Observers } from "../telemetry/events.ts";
import { applyPendingWrite } from "./apply-write.ts";
import { type Database, type DatabaseHandle, isConnectionError } from "./db.ts";
import { StorageUnavailableError } from "./errors.ts";
import type { PendingWrite, PendingWriteQueue } from "./pending-writes.ts";

export type WriteOutcome<T> = { status: "committed"; value: T } | { status: "queued" };

export interface DurableWriterOptions {
  reconnectIntervalMs: number;
  /** A reconnect attempt whose ping takes longer counts as failed (a black-holed server must not stall recovery). */
  pingTimeoutMs: number;
  /** Called after queued writes reached PostgreSQL, so caches holding provisional data can be dropped. */
  onDrained?: (writes: PendingWrite[]) => void | Promise<void>;
  /** Told which tier takes writes (the database or the journal) and of every failed operation. */
  observers: Observers;
}

export class DurableWriter {
  #available = false;
  #migrated = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #draining: Promise<void> | null = null;
  #stopped = false;

  constructor(
    readonly handle: DatabaseHandle,
    readonly queue: PendingWriteQueue,
    private readonly logger: Logger,
    private readonly options: DurableWriterOptions,
  ) {}

  /** PostgreSQL answered recently and nothing is waiting in the queue ahead of new writes. */
  get available(): boolean {
    return this.#available;
  }

  /** Migrations have been applied in this process's lifetime. */
  get migrated(): boolean {
    return this.#migrated;
  }

  get pendingCount(): number {
    return this.queue.size;
  }

  /** Migrates and drains a journal left by a previous run; on failure keeps retrying in the background. */
  async start(): Promise<void> {
    await this.#recover();
    if (!this.#available) {
      this.#reportTier();
      this.#scheduleRetry();
    }
  }

  /** Runs `operation` now when PostgreSQL is reachable; otherwise journals `write` to be applied later. */
  async write<T>(write: PendingWrite, operation: (db: Database) => Promise<T>): Promise<WriteOutcome<T>> {
    if (this.#available && this.queue.size === 0) {
      try {
        return { status: "committed", value: await operation(this.handle.db) };
      } catch (error) {
        if (!this.#connectionLost(error)) throw error;
      }
    }
    this.queue.enqueue(write);
    this.#scheduleRetry();
    return { status: "queued" };
  }

  /** Runs a read; throws StorageUnavailableError when PostgreSQL cannot be reached. */
  async read<T>(operation: (db: Database) => Promise<T>): Promise<T> {
    if (!this.#available) throw new StorageUnavailableError();
    try {
      return await operation(this.handle.db);
    } catch (error) {
      if (!this.#connectionLost(error)) throw error;
      throw new StorageUnavailableError(undefined, { cause: error });
    }
  }

  /** Runs a write that is only worth doing while PostgreSQL is up (e.g. caching a TTS result); false when skipped. */
  async bestEffort(operation: (db: Database) => Promise<unknown>): Promise<boolean> {
    if (!this.#available) return false;
    try {
      await operation(this.handle.db);
      return true;
    } catch (error) {
      if (!this.#connectionLost(error)) throw error;
      return false;
    }
  }

  /** Round-trip latency in ms; rejects when PostgreSQL does not answer. Marks it down on failure. */
  async probe(): Promise<number> {
    const started = performance.now();
    try {
      await this.handle.ping();
    } catch (error) {
      this.options.observers.observe({ type: "storage_error", backend: "postgres", kind: "unavailable" });
      this.#markDown(error);
      throw error;
    }
    if (!this.#available) this.#scheduleRetry(0);
    return performance.now() - started;
  }

  /** Last chance before exit: one drain attempt so queued writes reach PostgreSQL if it is back. */
  async flush(): Promise<void> {
    this.#clearRetry();
    await this.#recover();
  }

  stop(): void {
    this.#stopped = true;
    this.#clearRetry();
  }

  /** Counts a failed operation; true (and PostgreSQL marked down) when the connection was the cause. */
  #connectionLost(error: unknown): boolean {
    const lost = isConnectionError(error);
    this.options.observers.observe({ type: "storage_error", backend: "postgres", kind: lost ? "unavailable" : "rejected" });
    if (lost) this.#markDown(error);
    return lost;
  }

  #markDown(error: unknown): void {
    if (!this.#available) return;
    this.#available = false;
    this.#reportTier();
    this.logger.error({ err: error }, "postgres unreachable; queueing writes to the journal and retrying");
    this.#scheduleRetry();
  }

  #reportTier(): void {
    this.options.observers.observe({ type: "storage_tier", component: "database", tier: this.#available ? this.handle.mode : "journal" });
  }

  #scheduleRetry(delayMs = this.options.reconnectIntervalMs): void {
    if (this.#stopped || this.#retryTimer || this.#available) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#recover().then(() => {
        if (!this.#available) this.#scheduleRetry();
      });
    }, delayMs);
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** One attempt: ping, migrate if needed, drain. Concurrent callers share the attempt. */
  #recover(): Promise<void> {
    this.#draining ??= this.#attemptRecovery().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  async #attemptRecovery(): Promise<void> {
    try {
      await this.#pingWithin(this.options.pingTimeoutMs);
      if (!this.#migrated) {
        await this.handle.migrate();
        this.#migrated = true;
        this.logger.info({ mode: this.handle.mode }, "database migrations applied");
      }
      const drained = await this.#drain();
      if (this.queue.size === 0) {
        const wasDown = !this.#available;
        this.#available = true;
        if (wasDown) {
          this.#reportTier();
          this.logger.info({ replayed: drained.length }, "postgres available; writing directly");
        }
      }
      if (drained.length > 0) await this.options.onDrained?.(drained);
    } catch (error) {
      if (this.#available) this.#markDown(error);
      else this.logger.debug({ err: error }, "postgres still unavailable");
    }
  }

  async #pingWithin(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`postgres did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.handle.ping(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Applies queued writes oldest first; stops at the first connection failure. */
  async #drain(): Promise<PendingWrite[]> {
    const drained: PendingWrite[] = [];
    try {
      for (let write = this.queue.peek(); write; write = this.queue.peek()) {
        try {
          await applyPendingWrite(this.handle.db, write);
          this.queue.shift();
        } catch (error) {
          if (isConnectionError(error)) throw error;
          this.logger.error({ err: error, write: { kind: write.kind } }, "queued write can never apply; moved to dead-letter journal");
          this.queue.deadLetter(error instanceof Error ? error.message : String(error));
        }
        drained.push(write);
      }
    } finally {
      if (drained.length > 0) this.queue.persist();
    }
    return drained;
  }
}
