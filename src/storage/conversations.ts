/**
 * The conversation manager, three tiers: this process's memory → Redis → PostgreSQL.
 * Reads take the first tier that has the answer and fill the tiers above it. Writes reach
 * PostgreSQL (or, while it is away, the fsync'd local journal) before they are acknowledged,
 * then this process's memory entry is updated and the Redis copy is invalidated.
 */
import { randomUUID } from "node:crypto";
import { and, desc, eq, gt, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { z } from "zod";
import type { Config } from "../config/schema.ts";
import { applyConversationCreate, applyConversationDelete, applyMessageAppend } from "./apply-write.ts";
import type { CacheBackend } from "./cache-backend.ts";
import { sqlState } from "./db.ts";
import type { DurableWriter } from "./durable-writer.ts";
import { ConflictError, InvalidCursorError, NotFoundError } from "./errors.ts";
import { redisKeys } from "./keys.ts";
import { KeyedMutex } from "./keyed-mutex.ts";
import { type ConversationSnapshot, MemoryTier } from "./memory-tier.ts";
import type { ConversationCreateWrite, MessageAppendWrite, PendingWrite } from "./pending-writes.ts";
import { type Conversation, type Message, type Page, toConversation, toMessage } from "./records.ts";
import { conversations, MESSAGE_ROLES, messages } from "./schema.ts";

const MAX_CONTENT_CHARS = 200_000;
const idText = z.string().trim().min(1).max(200);

export const createConversationInput = z.strictObject({
  userId: idText,
  /** Generate it yourself to make the create idempotent. */
  id: z.uuid().optional(),
  /** Your own name for it; defaults to `id`. */
  conversationId: idText.optional(),
});
export type CreateConversationInput = z.input<typeof createConversationInput>;

export const appendMessageInput = z.strictObject({
  /** Generate it yourself to make the append idempotent (a retry returns the stored message). */
  id: z.uuid().optional(),
  role: z.enum(MESSAGE_ROLES),
  content: z.string().max(MAX_CONTENT_CHARS),
  tokensUsed: z.number().int().min(0).nullish(),
  processingTimeMs: z.number().int().min(0).nullish(),
  interrupted: z.boolean().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type AppendMessageInput = z.input<typeof appendMessageInput>;

export interface ContextOptions {
  /** Most messages returned (a turn = one message); default conversation.contextMaxTurns. */
  maxTurns?: number;
  /** Most characters of content in all; default conversation.contextMaxChars. */
  maxChars?: number;
}

export interface PageOptions {
  limit?: number;
  cursor?: string | null;
}

/** The pointer stored at conv:context:{user_id}: the conversation the user used last. */
interface UserContextPointer {
  conversationId: string;
}

export class ConversationManager {
  readonly #memory: MemoryTier;
  readonly #appendLock = new KeyedMutex();
  /**
   * The pointer this process last wrote per user, so a user talking on in one conversation costs no
   * write per message: it is written when it changes. Entries live cache.memoryTtlS, like the memory
   * tier, which bounds how long another process's newer pointer can be overwritten late.
   */
  readonly #pointers = new Map<string, { conversationId: string; until: number }>();

  constructor(
    private readonly writer: DurableWriter,
    private readonly cache: CacheBackend,
    private readonly settings: { cache: Config["cache"]; conversation: Config["conversation"] },
    private readonly logger: Logger,
  ) {
    this.#memory = new MemoryTier(settings.cache.memoryMaxConversations, settings.cache.memoryTtlS * 1000);
  }

  async createConversation(input: CreateConversationInput): Promise<Conversation> {
    const parsed = createConversationInput.parse(input);
    const id = parsed.id ?? randomUUID();
    const write: ConversationCreateWrite = {
      kind: "conversation.create",
      id,
      conversationId: parsed.conversationId ?? id,
      userId: parsed.userId,
      createdAt: new Date().toISOString(),
    };
    const outcome = await this.writer
      .write(write, async (db) => toConversation(await applyConversationCreate(db, write)))
      .catch((error: unknown) => {
        if (sqlState(error) === "23505") throw new ConflictError(`conversation_id ${write.conversationId} is already taken`);
        throw error;
      });
    const conversation = outcome.status === "committed" ? outcome.value : provisionalConversation(write);
    const snapshot: ConversationSnapshot = { conversation, recent: [] };
    this.#memory.set(snapshot, outcome.status === "queued");
    await this.#storeSnapshotInRedis(snapshot);
    await this.#pointUserAt(conversation);
    return conversation;
  }

  /** The conversation, or null when it does not exist. */
  async getConversation(id: string): Promise<Conversation | null> {
    return (await this.#snapshot(id))?.conversation ?? null;
  }

  /** The user's most recently used conversation, or null: what `start` with conversation_id "latest" continues. */
  async getLatestConversation(userId: string): Promise<Conversation | null> {
    const pointer = await this.#readJson<UserContextPointer>(redisKeys.conversationContext(userId));
    if (pointer) {
      const conversation = await this.getConversation(pointer.conversationId);
      if (conversation?.userId === userId) return conversation;
    }
    const [row] = await this.writer.read((db) =>
      db.select().from(conversations).where(eq(conversations.userId, userId)).orderBy(desc(conversations.updatedAt), desc(conversations.id)).limit(1),
    );
    return row ? toConversation(row) : null;
  }

  /** A user's conversations, most recently updated first. */
  async listConversations(userId: string, options: PageOptions = {}): Promise<Page<Conversation>> {
    const limit = options.limit ?? 20;
    const cursor = options.cursor ? decodeConversationCursor(options.cursor) : null;
    const rows = await this.writer.read((db) =>
      db
        .select({ row: conversations, updatedAtText: sql<string>`${conversations.updatedAt}::text` })
        .from(conversations)
        .where(
          and(
            eq(conversations.userId, userId),
            cursor ? sql`(${conversations.updatedAt}, ${conversations.id}) < (${cursor.updatedAt}::timestamptz, ${cursor.id}::uuid)` : undefined,
          ),
        )
        .orderBy(desc(conversations.updatedAt), desc(conversations.id))
        .limit(limit + 1),
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? encodeConversationCursor(last.updatedAtText, last.row.id) : null;
    return { items: page.map(({ row }) => toConversation(row)), nextCursor };
  }

  /**
   * Appends a message with the next sequence number (gapless, unique, even across processes).
   * Throws NotFoundError for an unknown conversation. While PostgreSQL is away the message is
   * journaled and returned with `pending: true` and a provisional number.
   */
  async appendMessage(conversationId: string, input: AppendMessageInput): Promise<Message> {
    const parsed = appendMessageInput.parse(input);
    return this.#appendLock.run(conversationId, async () => {
      const snapshot = await this.#snapshot(conversationId);
      if (!snapshot) throw new NotFoundError("conversation", conversationId);
      const write: MessageAppendWrite = {
        kind: "message.append",
        id: parsed.id ?? randomUUID(),
        conversationId,
        role: parsed.role,
        content: parsed.content,
        tokensUsed: parsed.tokensUsed ?? null,
        processingTimeMs: parsed.processingTimeMs ?? null,
        interrupted: parsed.interrupted ?? false,
        metadata: parsed.metadata ?? {},
        createdAt: new Date().toISOString(),
      };
      const outcome = await this.writer.write(write, (db) => applyMessageAppend(db, write));
      if (outcome.status === "committed") {
        const message = toMessage(outcome.value.message);
        await this.#afterCommittedAppend(snapshot, toConversation(outcome.value.conversation), message);
        return message;
      }
      return this.#afterQueuedAppend(snapshot, write);
    });
  }

  /** Messages in sequence order, after the `cursor` sequence number. */
  async listMessages(conversationId: string, options: PageOptions = {}): Promise<Page<Message>> {
    const limit = options.limit ?? 50;
    const after = options.cursor ? decodeSequenceCursor(options.cursor) : 0;
    const rows = await this.writer.read((db) =>
      db
        .select()
        .from(messages)
        .where(and(eq(messages.conversationId, conversationId), gt(messages.sequenceNumber, after)))
        .orderBy(messages.sequenceNumber)
        .limit(limit + 1),
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toMessage), nextCursor: rows.length > limit && last ? String(last.sequenceNumber) : null };
  }

  /**
   * The context for the LLM: the newest messages, at most `maxTurns` of them and `maxChars` characters
   * of content in all, oldest first. If even the newest message is longer than maxChars, its tail is
   * returned (the end of an utterance matters most). Throws NotFoundError for an unknown conversation.
   */
  async getContext(conversationId: string, options: ContextOptions = {}): Promise<Message[]> {
    const maxTurns = options.maxTurns ?? this.settings.conversation.contextMaxTurns;
    const maxChars = options.maxChars ?? this.settings.conversation.contextMaxChars;
    const snapshot = await this.#snapshot(conversationId);
    if (!snapshot) throw new NotFoundError("conversation", conversationId);
    const holdsEnough = snapshot.recent.length >= maxTurns || snapshot.recent.length >= snapshot.conversation.messageCount;
    const newest = holdsEnough ? snapshot.recent.slice(-maxTurns) : await this.#readNewest(conversationId, maxTurns);
    return fitBudget(newest, maxChars);
  }

  /** Deletes the conversation and its messages. Throws NotFoundError for an unknown one. */
  async deleteConversation(id: string): Promise<void> {
    const snapshot = await this.#snapshot(id);
    if (!snapshot) throw new NotFoundError("conversation", id);
    const outcome = await this.writer.write({ kind: "conversation.delete", id }, (db) => applyConversationDelete(db, id));
    this.#memory.delete(id);
    await this.cache.delete(redisKeys.conversationMessages(id));
    const pointer = await this.#readJson<UserContextPointer>(redisKeys.conversationContext(snapshot.conversation.userId));
    if (pointer?.conversationId === id) await this.cache.delete(redisKeys.conversationContext(snapshot.conversation.userId));
    if (this.#pointers.get(snapshot.conversation.userId)?.conversationId === id) this.#pointers.delete(snapshot.conversation.userId);
    if (outcome.status === "committed" && !outcome.value) throw new NotFoundError("conversation", id);
  }

  /** Drops cached copies of conversations whose queued writes just reached PostgreSQL. */
  async invalidateAfterReplay(writes: PendingWrite[]): Promise<void> {
    const ids = new Set<string>();
    for (const write of writes) {
      if (write.kind === "message.append") ids.add(write.conversationId);
      if (write.kind === "conversation.create" || write.kind === "conversation.delete") ids.add(write.id);
    }
    for (const id of ids) {
      this.#memory.delete(id);
      await this.cache.delete(redisKeys.conversationMessages(id));
    }
  }

  /** Empties this process's memory tier (tests, and after a failover). */
  clearMemoryTier(): void {
    this.#memory.clear();
  }

  /** Memory → Redis → PostgreSQL; fills the tiers above the one that answered. */
  async #snapshot(conversationId: string): Promise<ConversationSnapshot | null> {
    const inMemory = this.#memory.get(conversationId);
    if (inMemory) return inMemory;
    const inRedis = await this.#readJson<ConversationSnapshot>(redisKeys.conversationMessages(conversationId));
    if (inRedis) {
      this.#memory.set(inRedis);
      return inRedis;
    }
    if (!z.uuid().safeParse(conversationId).success) return null;
    const fromDatabase = await this.#readSnapshotFromDatabase(conversationId);
    if (!fromDatabase) return null;
    this.#memory.set(fromDatabase);
    await this.#storeSnapshotInRedis(fromDatabase);
    return fromDatabase;
  }

  async #readSnapshotFromDatabase(conversationId: string): Promise<ConversationSnapshot | null> {
    const [row] = await this.writer.read((db) => db.select().from(conversations).where(eq(conversations.id, conversationId)));
    if (!row) return null;
    const recent = await this.#readNewest(conversationId, this.settings.conversation.cacheWindow);
    return { conversation: toConversation(row), recent };
  }

  async #readNewest(conversationId: string, count: number): Promise<Message[]> {
    const rows = await this.writer.read((db) =>
      db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(desc(messages.sequenceNumber)).limit(count),
    );
    return rows.reverse().map(toMessage);
  }

  async #afterCommittedAppend(snapshot: ConversationSnapshot, conversation: Conversation, message: Message): Promise<void> {
    const previous = snapshot.recent.at(-1)?.sequenceNumber ?? snapshot.conversation.messageCount;
    const contiguous = previous === message.sequenceNumber - 1 && !snapshot.recent.some((item) => item.pending);
    if (contiguous) {
      const recent = [...snapshot.recent, message].slice(-this.settings.conversation.cacheWindow);
      this.#memory.set({ conversation, recent });
    } else {
      // Another process appended in between: our copy has a hole, so drop it rather than patch it.
      this.#memory.delete(conversation.id);
    }
    await this.cache.delete(redisKeys.conversationMessages(conversation.id));
    await this.#pointUserAt(conversation);
  }

  async #afterQueuedAppend(snapshot: ConversationSnapshot, write: MessageAppendWrite): Promise<Message> {
    const sequenceNumber = snapshot.conversation.messageCount + 1;
    const message: Message = { ...provisionalMessage(write, sequenceNumber), pending: true };
    const conversation: Conversation = {
      ...snapshot.conversation,
      messageCount: sequenceNumber,
      updatedAt: write.createdAt,
      lastMessageAt: write.createdAt,
    };
    const updated = { conversation, recent: [...snapshot.recent, message].slice(-this.settings.conversation.cacheWindow) };
    this.#memory.set(updated, true);
    await this.#storeSnapshotInRedis(updated);
    await this.#pointUserAt(conversation);
    this.logger.warn({ conversation_id: write.conversationId, message_id: write.id }, "message journaled; postgres unavailable");
    return message;
  }

  async #storeSnapshotInRedis(snapshot: ConversationSnapshot): Promise<void> {
    const key = redisKeys.conversationMessages(snapshot.conversation.id);
    await this.cache.set(key, JSON.stringify(snapshot), this.settings.cache.ttlS.conversationMessages);
  }

  async #pointUserAt(conversation: Conversation): Promise<void> {
    const { userId, id } = conversation;
    const written = this.#pointers.get(userId);
    if (written && written.conversationId === id && written.until > Date.now()) return;
    const pointer: UserContextPointer = { conversationId: id };
    await this.cache.set(redisKeys.conversationContext(userId), JSON.stringify(pointer), this.settings.cache.ttlS.conversationContext);
    this.#pointers.delete(userId);
    this.#pointers.set(userId, { conversationId: id, until: Date.now() + this.settings.cache.memoryTtlS * 1000 });
    // Oldest first in insertion order: keep as many users as the memory tier keeps conversations.
    if (this.#pointers.size > this.settings.cache.memoryMaxConversations) this.#pointers.delete(this.#pointers.keys().next().value!);
  }

  async #readJson<T>(key: string): Promise<T | null> {
    const raw = await this.cache.get(key);
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as T;
    } catch {
      await this.cache.delete(key);
      return null;
    }
  }
}

/** Newest-first budget walk; returns oldest first. */
export function fitBudget(newestLast: Message[], maxChars: number): Message[] {
  const chosen: Message[] = [];
  let used = 0;
  for (let index = newestLast.length - 1; index >= 0; index--) {
    const message = newestLast[index]!;
    if (used + message.content.length > maxChars) {
      if (chosen.length === 0) chosen.push({ ...message, content: message.content.slice(-maxChars) });
      break;
    }
    used += message.content.length;
    chosen.push(message);
  }
  return chosen.reverse();
}

function provisionalConversation(write: ConversationCreateWrite): Conversation {
  return {
    id: write.id,
    conversationId: write.conversationId,
    userId: write.userId,
    createdAt: write.createdAt,
    updatedAt: write.createdAt,
    lastMessageAt: null,
    messageCount: 0,
    isActive: true,
  };
}

function provisionalMessage(write: MessageAppendWrite, sequenceNumber: number): Message {
  return {
    id: write.id,
    conversationId: write.conversationId,
    role: write.role,
    content: write.content,
    sequenceNumber,
    tokensUsed: write.tokensUsed,
    processingTimeMs: write.processingTimeMs,
    interrupted: write.interrupted,
    metadata: write.metadata,
    createdAt: write.createdAt,
  };
}

/** PostgreSQL's text form of a timestamptz, e.g. "2026-11-25 10:32:58.091234+00". */
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;
const conversationCursor = z.tuple([z.string().regex(TIMESTAMP_TEXT), z.uuid()]);

function encodeConversationCursor(updatedAtText: string, id: string): string {
  return Buffer.from(JSON.stringify([updatedAtText, id])).toString("base64url");
}

function decodeConversationCursor(cursor: string): { updatedAt: string; id: string } {
  try {
    const [updatedAt, id] = conversationCursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString()));
    return { updatedAt, id };
  } catch {
    throw new InvalidCursorError("cursor is not one this API returned");
  }
}

function decodeSequenceCursor(cursor: string): number {
  if (!/^\d{1,9}$/.test(cursor)) throw new InvalidCursorError("cursor is not one this API returned");
  return Number(cursor);
}
