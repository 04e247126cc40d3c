/**
 * The voice pipeline's storage ports (src/pipeline/ports.ts) on top of Morgan's storage: the
 * three-tier conversation manager, the session repositories, the TTS cache and the session cache.
 */
import {
  ConversationGoneError,
  type CachedSynthesis,
  type PipelineStore,
  type SessionSnapshot,
  type SessionStatePort,
  type SessionStore,
  type SynthesisKey,
} from "../pipeline/ports.ts";
import { NotFoundError } from "./errors.ts";
import type { Logger } from "pino";
import { BatchedAppender } from "./batched-appender.ts";
import { ReplyJournal } from "./reply-journal.ts";
import { hashTtsText, type Storage } from "./index.ts";

/** Replay entries reach Redis within this delay (a resume on another instance sees them after it). */
const REPLAY_FLUSH_MS = 5;
/** Input audio is buffered in Redis for recovery, not for latency: batch it more. */
const AUDIO_FLUSH_MS = 100;

export function pipelineStore(storage: Storage): PipelineStore {
  const ttsKey = (key: SynthesisKey) => ({
    textHash: hashTtsText(key.text),
    voice: key.voice,
    speed: key.speed,
    audioFormat: key.audioFormat,
  });
  return {
    async context(conversationId) {
      const messages = await storage.conversations.getContext(conversationId).catch(conversationGone(conversationId));
      return messages.map((m) => ({ role: m.role as "user" | "assistant" | "system", content: m.content }));
    },
    async appendMessage(conversationId, message) {
      const stored = await storage.conversations.appendMessage(conversationId, message).catch(conversationGone(conversationId));
      return { id: stored.id };
    },
    async recordTranscription(sessionRowId, record) {
      await storage.transcriptions.record({
        sessionRowId,
        messageId: record.messageId,
        transcription: record.text,
        language: record.language,
        confidence: record.confidence,
        durationMs: record.durationMs,
      });
    },
    async cachedSynthesis(key): Promise<CachedSynthesis | undefined> {
      const entry = await storage.ttsCache.find(ttsKey(key));
      if (!entry) return undefined;
      return { pcm: entry.audio, sampleRate: entry.sampleRate, durationMs: entry.durationMs ?? 0 };
    },
    async storeSynthesis(key, messageId, audio) {
      await storage.ttsCache.save({
        ...ttsKey(key),
        sampleRate: audio.sampleRate,
        durationMs: Math.round(audio.durationMs),
        messageId: messageId ?? null,
        audio: new Uint8Array(audio.pcm),
      });
    },
  };
}

/** The conversation manager's "not found" for the session's own conversation means it was deleted. */
function conversationGone(conversationId: string) {
  return (error: unknown): never => {
    if (error instanceof NotFoundError && error.entity === "conversation") throw new ConversationGoneError(conversationId);
    throw error;
  };
}

export function sessionStore(storage: Storage): SessionStore {
  return {
    async openConversation(userId, conversationId) {
      if (conversationId === "latest") {
        const latest = await storage.conversations.getLatestConversation(userId);
        return { id: (latest ?? (await storage.conversations.createConversation({ userId }))).id };
      }
      if (conversationId === undefined) return { id: (await storage.conversations.createConversation({ userId })).id };
      const conversation = await storage.conversations.getConversation(conversationId);
      // Another user's conversation is reported exactly like a missing one: no existence leak.
      return conversation && conversation.userId === userId ? { id: conversation.id } : undefined;
    },
    async startSession(row) {
      const session = await storage.streamingSessions.start({
        sessionId: row.sessionId,
        userId: row.userId,
        conversationId: row.conversationId,
        sessionType: row.type,
      });
      return { rowId: session.id };
    },
    async endSession(sessionId, status) {
      await storage.streamingSessions.end(sessionId, status);
    },
    async reopenSession(sessionId) {
      await storage.streamingSessions.reopen(sessionId);
    },
  };
}

interface ReplayEntry {
  seq: number;
  json: string;
}

/**
 * Session snapshots, replay list and audio buffer in Redis (or the in-process cache without it).
 * Replay and audio appends are batched per session (see BatchedAppender).
 */
export function sessionState(storage: Storage, log: Logger): SessionStatePort {
  const cache = storage.sessionCache;
  const warn = (what: string) => (error: unknown) => log.warn({ err: error }, `${what} failed`);
  const replay = new BatchedAppender<ReplayEntry>(
    (sessionId, entries) => cache.appendReplay(sessionId, ...entries),
    REPLAY_FLUSH_MS,
    warn("recording messages for replay"),
  );
  const audio = new BatchedAppender<Uint8Array>(
    (sessionId, chunks) => cache.appendAudio(sessionId, ...chunks),
    AUDIO_FLUSH_MS,
    warn("buffering audio"),
  );
  const replies = new ReplyJournal(storage.cache, cache.sessionTtlS, () => storage.cache.mode === "redis", log);
  return {
    save: (snapshot) => cache.setState(snapshot.sessionId, snapshot),
    reserveSeq: (sessionId, floor, count) => cache.reserveSeq(sessionId, floor, count),
    load: async (sessionId) => (await cache.getState<SessionSnapshot>(sessionId)) ?? undefined,
    async remove(sessionId) {
      replay.discard(sessionId);
      replies.discard(sessionId);
      audio.discard(sessionId);
      await cache.clearSession(sessionId);
    },
    appendReplay(sessionId, seq, json) {
      replay.add(sessionId, { seq, json });
    },
    async replaySince(sessionId, lastSeq) {
      // What this instance still holds for the session is written first.
      await replay.flush();
      const entries = await cache.readReplay<ReplayEntry>(sessionId);
      // In seq order: an old owner letting go may append a few of its last messages after the new owner's first.
      return entries
        .filter((e) => e.seq > lastSeq)
        .sort((a, b) => a.seq - b.seq)
        .map((e) => e.json);
    },
    async flush() {
      await Promise.all([replay.flush(), audio.flush()]);
    },
    appendAudio(sessionId, pcm) {
      audio.add(sessionId, pcm);
    },
    replyProgress: (sessionId, progress) => replies.record(sessionId, progress),
    claimReply: (sessionId, turnId) => replies.claim(sessionId, turnId),
    takeOrphanedReplies: (sessionId) => replies.takeOrphans(sessionId),
    clearAudio(sessionId) {
      audio.discard(sessionId);
      cache.clearAudio(sessionId).catch(warn("clearing the audio buffer"));
    },
  };
}
