/**
 * The progress of each reply in flight, in Redis (`session:{id}:reply`, a JSON object of one record
 * per turn), so that after a crash the session's next owner can store the cut reply as heard instead
 * of leaving the conversation half-written.
 *
 * Exactly one instance stores each reply: the owner writes a record only while it still holds the
 * version it wrote last (compare-and-set), and removes it the same way before storing the reply; a
 * successor takes the whole object at once. Whoever gets the record stores the reply.
 */
import type { Logger } from "pino";
import type { ReplyProgress } from "../pipeline/ports.ts";
import type { CacheBackend } from "./cache-backend.ts";
import { redisKeys } from "./keys.ts";

/** Progress reaches Redis within this delay; a crash loses at most this much of "what was heard". */
const FLUSH_MS = 100;

export class ReplyJournal {
  /** Per session, per turn: the record as last written (what a compare-and-set expects). */
  readonly #written = new Map<string, Map<string, string>>();
  readonly #pending = new Map<string, Map<string, ReplyProgress>>();
  /** Per session, the writes and claims in order. */
  readonly #chains = new Map<string, Promise<unknown>>();
  #timer?: Timer;

  /** Turns already claimed, per session: a late progress report for one must not bring its record back. */
  readonly #claimed = new Map<string, Set<string>>();

  constructor(
    private readonly cache: CacheBackend,
    private readonly ttlS: number,
    /** Whether Redis (shared with the other instances) serves now, rather than the in-process cache. */
    private readonly shared: () => boolean,
    private readonly log: Logger,
  ) {}

  record(sessionId: string, progress: ReplyProgress): void {
    if (this.#claimed.get(sessionId)?.has(progress.turnId)) return;
    let turns = this.#pending.get(sessionId);
    if (!turns) this.#pending.set(sessionId, (turns = new Map()));
    turns.set(progress.turnId, progress);
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  claim(sessionId: string, turnId: string): Promise<boolean> {
    this.#pending.get(sessionId)?.delete(turnId);
    let claimed = this.#claimed.get(sessionId);
    if (!claimed) this.#claimed.set(sessionId, (claimed = new Set()));
    claimed.add(turnId);
    return this.#inOrder(sessionId, async () => {
      const written = this.#written.get(sessionId);
      const expected = written?.get(turnId);
      written?.delete(turnId);
      if (written?.size === 0) this.#written.delete(sessionId);
      if (expected === undefined) return true;
      const removed = await this.cache.fieldDeleteIfEquals(redisKeys.sessionReply(sessionId), turnId, expected);
      // With Redis away no other instance can have taken it: the in-process cache just lacks the record.
      return removed || !this.shared();
    });
  }

  async takeOrphans(sessionId: string): Promise<ReplyProgress[]> {
    const raw = await this.cache.take(redisKeys.sessionReply(sessionId));
    if (raw === null) return [];
    return Object.values(JSON.parse(raw) as Record<string, string>).map((json) => JSON.parse(json) as ReplyProgress);
  }

  /** Forgets a session (it ended; its keys are being deleted). */
  discard(sessionId: string): void {
    this.#pending.delete(sessionId);
    this.#written.delete(sessionId);
    this.#claimed.delete(sessionId);
  }

  #flush(): void {
    this.#timer = undefined;
    const batches = [...this.#pending];
    this.#pending.clear();
    for (const [sessionId, turns] of batches) {
      void this.#inOrder(sessionId, async () => {
        for (const progress of turns.values()) await this.#write(sessionId, progress);
      }).catch((error: unknown) => this.log.warn({ err: error }, "recording reply progress failed"));
    }
  }

  async #write(sessionId: string, progress: ReplyProgress): Promise<void> {
    let written = this.#written.get(sessionId);
    if (!written) this.#written.set(sessionId, (written = new Map()));
    const json = JSON.stringify(progress);
    const expected = written.get(progress.turnId) ?? null;
    const key = redisKeys.sessionReply(sessionId);
    // Refused: another instance took the reply over; the claim will say so.
    if (await this.cache.fieldReplaceIfEquals(key, progress.turnId, expected, json, this.ttlS)) written.set(progress.turnId, json);
  }

  #inOrder<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(sessionId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.#chains.set(sessionId, next);
    void next.finally(() => {
      if (this.#chains.get(sessionId) === next) this.#chains.delete(sessionId);
    }).catch(() => {});
    return next;
  }
}
