/**
 * The first tier: recently used conversations in this process, least recently used evicted first.
 * Another process's appends are not seen here, so an entry lives cache.memoryTtlS after it was
 * filled or written by this process (not after its last read): that bounds how stale it can be.
 * Entries holding writes not yet in PostgreSQL are pinned (never evicted) until the queue drains.
 */
import type { Conversation, Message } from "./records.ts";

export interface ConversationSnapshot {
  conversation: Conversation;
  /** The newest messages (at most the cache window), oldest first. */
  recent: Message[];
}

interface Entry {
  snapshot: ConversationSnapshot;
  expiresAt: number;
  pinned: boolean;
}

export class MemoryTier {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get(conversationId: string): ConversationSnapshot | undefined {
    const entry = this.#entries.get(conversationId);
    if (!entry) return undefined;
    if (!entry.pinned && entry.expiresAt <= Date.now()) {
      this.#entries.delete(conversationId);
      return undefined;
    }
    // Re-insert to mark it recently used (LRU order), keeping its expiry.
    this.#entries.delete(conversationId);
    this.#entries.set(conversationId, entry);
    return entry.snapshot;
  }

  set(snapshot: ConversationSnapshot, pinned = false): void {
    const id = snapshot.conversation.id;
    const wasPinned = this.#entries.get(id)?.pinned ?? false;
    this.#entries.delete(id);
    this.#entries.set(id, { snapshot, expiresAt: Date.now() + this.ttlMs, pinned: pinned || wasPinned });
    this.#evict();
  }

  delete(conversationId: string): void {
    this.#entries.delete(conversationId);
  }

  clear(): void {
    this.#entries.clear();
  }

  #evict(): void {
    if (this.#entries.size <= this.maxEntries) return;
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries) return;
      if (!entry.pinned) this.#entries.delete(id);
    }
  }
}
