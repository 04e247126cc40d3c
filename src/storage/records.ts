/**
 * The shapes storage hands out: plain JSON-safe objects (ISO timestamps), identical whether they
 * came from memory, Redis or PostgreSQL.
 */
import type { ConversationRow, MessageRole, MessageRow, StreamingSessionRow } from "./schema.ts";

export interface Conversation {
  id: string;
  conversationId: string;
  userId: string;
  createdAt: string;
  updatedAt: string;
  lastMessageAt: string | null;
  messageCount: number;
  isActive: boolean;
}

export interface Message {
  id: string;
  conversationId: string;
  role: MessageRole;
  content: string;
  /** 1, 2, 3… per conversation. Provisional while `pending` (PostgreSQL away): final once written. */
  sequenceNumber: number;
  tokensUsed: number | null;
  processingTimeMs: number | null;
  interrupted: boolean;
  metadata: Record<string, unknown>;
  createdAt: string;
  /** Present (true) when the message is journaled locally but not yet in PostgreSQL. */
  pending?: true;
}

export interface StreamingSession {
  id: string;
  sessionId: string;
  userId: string;
  conversationId: string | null;
  status: string;
  sessionType: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  pending?: true;
}

/** Cursor-paginated list: pass `nextCursor` back as `cursor` for the next page; null at the end. */
export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}

const iso = (value: Date | string): string => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    conversationId: row.conversationId,
    userId: row.userId,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    lastMessageAt: isoOrNull(row.lastMessageAt),
    messageCount: row.messageCount,
    isActive: row.isActive,
  };
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversationId,
    role: row.role,
    content: row.content,
    sequenceNumber: row.sequenceNumber,
    tokensUsed: row.tokensUsed,
    processingTimeMs: row.processingTimeMs,
    interrupted: row.interrupted,
    metadata: row.metadata,
    createdAt: iso(row.createdAt),
  };
}

export function toStreamingSession(row: StreamingSessionRow): StreamingSession {
  return {
    id: row.id,
    sessionId: row.sessionId,
    userId: row.userId,
    conversationId: row.conversationId,
    status: row.status,
    sessionType: row.sessionType,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    endedAt: isoOrNull(row.endedAt),
    durationMs: row.durationMs,
  };
}
