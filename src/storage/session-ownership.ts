/**
 * Which instance owns each live session: a lease in Redis (`session:{id}:owner`, the owner's instance
 * id with a TTL, renewed while the session lives) and a pub/sub notice when a session changes hands,
 * so that the previous owner, if it is alive, lets go at once. A missed notice is caught at the next
 * renewal, which finds the lease held by someone else.
 *
 * Without a Redis server (one process, the in-process cache) the lease lives in memory and there is
 * nobody to notify.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { SessionOwnershipPort } from "../pipeline/ports.ts";
import type { FailoverCache } from "./cache.ts";
import { redisKeys } from "./keys.ts";

/**
 * How long a lease outlives its owner's last renewal (renewed every third of it). Nothing waits for
 * it to run out: a resume with the right token takes a session over at once; the lease only tells a
 * live previous owner, at its next renewal, that it lost the session.
 */
export const OWNER_LEASE_S = 30;

/** The channel every instance listens on (not under ioredis's keyPrefix, so the prefix is added here). */
const CHANNEL = "session:owner-changed";

export interface SessionOwnershipOptions {
  /** This process's id, as written in the leases it holds. */
  instanceId: string;
  /** Lease lifetime; the owner renews at a third of it. */
  leaseS: number;
  /** redis.keyPrefix, so deployments sharing a Redis do not hear each other. */
  keyPrefix: string;
}

interface OwnerChanged {
  session_id: string;
  owner: string;
}

export class SessionOwnership implements SessionOwnershipPort {
  readonly #listeners: ((sessionId: string) => void)[] = [];
  readonly #subscriber: Redis | null;
  readonly #channel: string;

  constructor(
    private readonly cache: FailoverCache,
    private readonly options: SessionOwnershipOptions,
    private readonly log: Logger,
  ) {
    this.#channel = `${options.keyPrefix}${CHANNEL}`;
    this.#subscriber = cache.redisClient?.duplicate() ?? null;
    if (this.#subscriber) this.#listen(this.#subscriber);
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  get renewIntervalMs(): number {
    return (this.options.leaseS * 1000) / 3;
  }

  async claim(sessionId: string, announce = true): Promise<void> {
    await this.cache.set(redisKeys.sessionOwner(sessionId), this.options.instanceId, this.options.leaseS);
    const client = this.cache.redisClient;
    if (!announce || this.cache.mode !== "redis" || !client) return;
    const notice: OwnerChanged = { session_id: sessionId, owner: this.options.instanceId };
    await client.publish(this.#channel, JSON.stringify(notice)).catch((error: unknown) => {
      // The previous owner then notices at its next renewal instead.
      this.log.warn({ err: error, session_id: sessionId }, "announcing a session takeover failed");
    });
  }

  async renew(sessionIds: string[]): Promise<string[]> {
    const lost: string[] = [];
    await Promise.all(
      sessionIds.map(async (sessionId) => {
        const key = redisKeys.sessionOwner(sessionId);
        if (await this.cache.expireIfEquals(key, this.options.instanceId, this.options.leaseS)) return;
        const owner = await this.cache.get(key);
        // Gone (expired during an outage, or Redis restarted empty): still ours, so write it again.
        if (owner === null) await this.cache.set(key, this.options.instanceId, this.options.leaseS);
        else lost.push(sessionId);
      }),
    );
    return lost;
  }

  async ownedElsewhere(sessionId: string): Promise<boolean> {
    const owner = await this.cache.get(redisKeys.sessionOwner(sessionId));
    return owner !== null && owner !== this.options.instanceId;
  }

  async release(sessionId: string): Promise<void> {
    await this.cache.deleteIfEquals(redisKeys.sessionOwner(sessionId), this.options.instanceId);
  }

  onTakenOver(listener: (sessionId: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    if (subscriber && subscriber.status !== "end") await subscriber.quit().catch(() => subscriber.disconnect());
  }

  #listen(subscriber: Redis): void {
    // Subscribed on every "ready" (a reconnect included); a notice missed meanwhile is caught by renew().
    subscriber.on("error", () => {});
    subscriber.on("message", (channel: string, raw: string) => {
      if (channel !== this.#channel) return;
      let notice: OwnerChanged;
      try {
        notice = JSON.parse(raw) as OwnerChanged;
      } catch {
        return;
      }
      if (notice.owner === this.options.instanceId || typeof notice.session_id !== "string") return;
      for (const listener of this.#listeners) listener(notice.session_id);
    });
    subscriber.on("ready", () => {
      subscriber.subscribe(this.#channel).catch((error: unknown) => this.log.warn({ err: error }, "listening for session takeovers failed; renewals will notice them"));
    });
    subscriber.connect().catch((error: unknown) => this.log.warn({ err: error }, "redis unreachable for takeover notices; reconnecting"));
  }
}
