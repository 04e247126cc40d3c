/**
 * Applies one PendingWrite to PostgreSQL. The same code runs for a live write and for its replay
 * after an outage, and every statement is idempotent by the write's own UUID.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "./db.ts";
import { NotFoundError } from "./errors.ts";
import type {
  ConversationCreateWrite,
  MessageAppendWrite,
  PendingWrite,
  SessionEndWrite,
  SessionReopenWrite,
  SessionStartWrite,
  TranscriptionInsertWrite,
} from "./pending-writes.ts";
import {
  audioTranscriptions,
  conversations,
  messages,
  streamingSessions,
  type ConversationRow,
  type MessageRow,
  type StreamingSessionRow,
} from "./schema.ts";

export interface AppliedMessage {
  message: MessageRow;
  conversation: ConversationRow;
}

export async function applyConversationCreate(db: Database, write: ConversationCreateWrite): Promise<ConversationRow> {
  const createdAt = new Date(write.createdAt);
  await db
    .insert(conversations)
    .values({ id: write.id, conversationId: write.conversationId, userId: write.userId, createdAt, updatedAt: createdAt })
    .onConflictDoNothing({ target: conversations.id });
  const [row] = await db.select().from(conversations).where(eq(conversations.id, write.id));
  if (!row) throw new NotFoundError("conversation", write.id);
  return row;
}

/** Returns whether a row was deleted. */
export async function applyConversationDelete(db: Database, id: string): Promise<boolean> {
  const deleted = await db.delete(conversations).where(eq(conversations.id, id)).returning({ id: conversations.id });
  return deleted.length > 0;
}

/**
 * Numbers the message under the conversation's row lock: message_count is the last number handed
 * out, so concurrent appends (any process) serialise here and get consecutive numbers. The unique
 * (conversation_id, sequence_number) index is the backstop. A message whose id already exists is
 * returned as it is (a replay).
 */
export async function applyMessageAppend(db: Database, write: MessageAppendWrite): Promise<AppliedMessage> {
  return db.transaction(async (tx) => {
    const [locked] = await tx
      .select()
      .from(conversations)
      .where(eq(conversations.id, write.conversationId))
      .for("update");
    if (!locked) throw new NotFoundError("conversation", write.conversationId);
    const [existing] = await tx.select().from(messages).where(eq(messages.id, write.id));
    if (existing) return { message: existing, conversation: locked };
    const sequenceNumber = locked.messageCount + 1;
    const [message] = await tx
      .insert(messages)
      .values({
        id: write.id,
        conversationId: write.conversationId,
        role: write.role,
        content: write.content,
        sequenceNumber,
        tokensUsed: write.tokensUsed,
        processingTimeMs: write.processingTimeMs,
        interrupted: write.interrupted,
        metadata: write.metadata,
        createdAt: new Date(write.createdAt),
      })
      .returning();
    const [conversation] = await tx
      .update(conversations)
      .set({ messageCount: sequenceNumber, updatedAt: sql`now()`, lastMessageAt: new Date(write.createdAt) })
      .where(eq(conversations.id, write.conversationId))
      .returning();
    return { message: message!, conversation: conversation! };
  });
}

export async function applySessionStart(db: Database, write: SessionStartWrite): Promise<StreamingSessionRow> {
  const createdAt = new Date(write.createdAt);
  await db
    .insert(streamingSessions)
    .values({
      id: write.id,
      sessionId: write.sessionId,
      userId: write.userId,
      conversationId: write.conversationId,
      sessionType: write.sessionType,
      status: "active",
      createdAt,
      updatedAt: createdAt,
    })
    .onConflictDoNothing();
  const [row] = await db.select().from(streamingSessions).where(eq(streamingSessions.sessionId, write.sessionId));
  if (!row) throw new NotFoundError("streaming session", write.sessionId);
  return row;
}

/** Ends an active session once; ending an ended session returns it unchanged. */
export async function applySessionEnd(db: Database, write: SessionEndWrite): Promise<StreamingSessionRow | null> {
  const endedAt = new Date(write.endedAt);
  const [updated] = await db
    .update(streamingSessions)
    .set({
      status: write.status,
      endedAt,
      updatedAt: sql`now()`,
      durationMs: sql`greatest(0, round(extract(epoch from (${endedAt.toISOString()}::timestamptz - ${streamingSessions.createdAt})) * 1000))::int`,
    })
    .where(and(eq(streamingSessions.sessionId, write.sessionId), sql`${streamingSessions.endedAt} is null`))
    .returning();
  if (updated) return updated;
  const [existing] = await db.select().from(streamingSessions).where(eq(streamingSessions.sessionId, write.sessionId));
  return existing ?? null;
}

/**
 * Reopens a session that an instance's shutdown ended, so the end of its resumed life is recorded.
 * Only `shutdown` is undone: a session that completed or expired stays ended. Idempotent.
 */
export async function applySessionReopen(db: Database, write: SessionReopenWrite): Promise<void> {
  await db
    .update(streamingSessions)
    .set({ status: "active", endedAt: null, durationMs: null, updatedAt: sql`now()` })
    .where(and(eq(streamingSessions.sessionId, write.sessionId), eq(streamingSessions.status, "shutdown")));
}

export async function applyTranscriptionInsert(db: Database, write: TranscriptionInsertWrite): Promise<void> {
  await db
    .insert(audioTranscriptions)
    .values({
      id: write.id,
      sessionId: write.sessionId,
      messageId: write.messageId,
      transcription: write.transcription,
      language: write.language,
      confidence: write.confidence,
      durationMs: write.durationMs,
      createdAt: new Date(write.createdAt),
    })
    .onConflictDoNothing({ target: audioTranscriptions.id });
}

/** Replay entry point: applies any queued write, discarding its result. */
export async function applyPendingWrite(db: Database, write: PendingWrite): Promise<void> {
  switch (write.kind) {
    case "conversation.create":
      await applyConversationCreate(db, write);
      return;
    case "conversation.delete":
      await applyConversationDelete(db, write.id);
      return;
    case "message.append":
      await applyMessageAppend(db, write);
      return;
    case "session.start":
      await applySessionStart(db, write);
      return;
    case "session.end":
      await applySessionEnd(db, write);
      return;
    case "session.reopen":
      await applySessionReopen(db, write);
      return;
    case "transcription.insert":
      await applyTranscriptionInsert(db, write);
      return;
  }
}
