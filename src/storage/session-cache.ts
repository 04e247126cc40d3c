/**
 * Typed access to the per-session Redis families the voice pipeline uses: session state,
 * the audio chunk buffer and the replay list for resume.
 */
import type { Config } from "../config/schema.ts";
import type { CacheBackend } from "./cache-backend.ts";
import { redisKeys } from "./keys.ts";

export class SessionCache {
  constructor(
    private readonly cache: CacheBackend,
    private readonly settings: Config["cache"],
  ) {}

  /** How long a session's keys outlive its last write. */
  get sessionTtlS(): number {
    return this.settings.ttlS.session;
  }

  async getState<State>(sessionId: string): Promise<State | null> {
    const raw = await this.cache.get(redisKeys.session(sessionId));
    return raw === null ? null : (JSON.parse(raw) as State);
  }

  /** Replaces the session state and restarts its TTL. */
  async setState(sessionId: string, state: unknown): Promise<void> {
    await this.cache.set(redisKeys.session(sessionId), JSON.stringify(state), this.settings.ttlS.session);
  }

  /** Removes everything a session keeps: state, sequence counter, owner lease, reply in progress, replay list, audio buffer. */
  async clearSession(sessionId: string): Promise<void> {
    await this.cache.delete(
      redisKeys.session(sessionId),
      redisKeys.sessionSeq(sessionId),
      redisKeys.sessionOwner(sessionId),
      redisKeys.sessionReply(sessionId),
      redisKeys.sessionReplay(sessionId),
      redisKeys.audioBuffer(sessionId),
    );
  }

  /** Raises the session's reserved seq to at least `floor`, adds `count`; returns the new highest reserved seq. */
  reserveSeq(sessionId: string, floor: number, count: number): Promise<number> {
    return this.cache.counterAdvance(redisKeys.sessionSeq(sessionId), floor, count, this.settings.ttlS.session);
  }

  /** Appends audio chunks; keeps the newest cache.audioBufferMaxChunks. Returns the buffer length in chunks. */
  appendAudio(sessionId: string, ...chunks: Uint8Array[]): Promise<number> {
    return this.cache.listAppend(redisKeys.audioBuffer(sessionId), chunks, {
      maxLength: this.settings.audioBufferMaxChunks,
      ttlS: this.settings.ttlS.audioBuffer,
    });
  }

  /** The buffered chunks, oldest first. */
  readAudio(sessionId: string): Promise<Uint8Array[]> {
    return this.cache.listRangeBytes(redisKeys.audioBuffer(sessionId), 0, -1);
  }

  async clearAudio(sessionId: string): Promise<void> {
    await this.cache.delete(redisKeys.audioBuffer(sessionId));
  }

  /** Records outbound events for replay on resume; keeps the newest cache.replayMaxEntries. */
  appendReplay(sessionId: string, ...events: unknown[]): Promise<number> {
    return this.cache.listAppend(redisKeys.sessionReplay(sessionId), events.map((event) => JSON.stringify(event)), {
      maxLength: this.settings.replayMaxEntries,
      ttlS: this.settings.ttlS.session,
    });
  }

  /** The recorded events, oldest first. */
  async readReplay<Event>(sessionId: string): Promise<Event[]> {
    const items = await this.cache.listRange(redisKeys.sessionReplay(sessionId), 0, -1);
    return items.map((item) => JSON.parse(item) as Event);
  }
}
