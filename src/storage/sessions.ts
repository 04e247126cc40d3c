/**
 * Small repositories the voice pipeline needs: streaming_sessions (start/end), audio_transcriptions
 * (insert), tts_generations (the persistent TTS cache). Session and transcription writes go through
 * the durable writer (journaled while PostgreSQL is away); the TTS cache is best effort: a miss or a
 * skipped save only costs a re-synthesis.
 */
import { createHash, randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { applySessionEnd, applySessionReopen, applySessionStart, applyTranscriptionInsert } from "./apply-write.ts";
import type { DurableWriter } from "./durable-writer.ts";
import { NotFoundError } from "./errors.ts";
import type { SessionEndWrite, SessionReopenWrite, SessionStartWrite, TranscriptionInsertWrite } from "./pending-writes.ts";
import { type StreamingSession, toStreamingSession } from "./records.ts";
import { streamingSessions, ttsGenerations } from "./schema.ts";

const idText = z.string().trim().min(1).max(200);

export const startSessionInput = z.strictObject({
  id: z.uuid().optional(),
  sessionId: idText,
  userId: idText,
  conversationId: z.uuid().nullish(),
  sessionType: z.string().min(1).max(50).optional(),
});
export type StartSessionInput = z.input<typeof startSessionInput>;

export class StreamingSessionRepository {
  constructor(private readonly writer: DurableWriter) {}

  /** Records a session start; idempotent by sessionId. */
  async start(input: StartSessionInput): Promise<StreamingSession> {
    const parsed = startSessionInput.parse(input);
    const write: SessionStartWrite = {
      kind: "session.start",
      id: parsed.id ?? randomUUID(),
      sessionId: parsed.sessionId,
      userId: parsed.userId,
      conversationId: parsed.conversationId ?? null,
      sessionType: parsed.sessionType ?? "voice",
      createdAt: new Date().toISOString(),
    };
    const outcome = await this.writer.write(write, async (db) => toStreamingSession(await applySessionStart(db, write)));
    if (outcome.status === "committed") return outcome.value;
    return {
      id: write.id,
      sessionId: write.sessionId,
      userId: write.userId,
      conversationId: write.conversationId,
      status: "active",
      sessionType: write.sessionType,
      createdAt: write.createdAt,
      updatedAt: write.createdAt,
      endedAt: null,
      durationMs: null,
      pending: true,
    };
  }

  /**
   * Marks the session ended (status "ended" unless given) and stores its duration. Ending twice keeps
   * the first end. Returns null while PostgreSQL is away (the end is journaled). Throws NotFoundError
   * for an unknown session.
   */
  async end(sessionId: string, status = "ended"): Promise<StreamingSession | null> {
    const write: SessionEndWrite = { kind: "session.end", sessionId: idText.parse(sessionId), status, endedAt: new Date().toISOString() };
    const outcome = await this.writer.write(write, (db) => applySessionEnd(db, write));
    if (outcome.status === "queued") return null;
    if (!outcome.value) throw new NotFoundError("streaming session", sessionId);
    return toStreamingSession(outcome.value);
  }

  /** A session resumed after its instance shut down: `active` again, so its real end is recorded. Journaled while PostgreSQL is away. */
  async reopen(sessionId: string): Promise<void> {
    const write: SessionReopenWrite = { kind: "session.reopen", sessionId: idText.parse(sessionId) };
    await this.writer.write(write, (db) => applySessionReopen(db, write));
  }

  async get(sessionId: string): Promise<StreamingSession | null> {
    const [row] = await this.writer.read((db) => db.select().from(streamingSessions).where(eq(streamingSessions.sessionId, sessionId)));
    return row ? toStreamingSession(row) : null;
  }
}

export const transcriptionInput = z.strictObject({
  id: z.uuid().optional(),
  /** streaming_sessions.id (the UUID returned by StreamingSessionRepository.start), not the text session id. */
  sessionRowId: z.uuid(),
  messageId: z.uuid().nullish(),
  transcription: z.string().max(200_000),
  language: z.string().max(20).nullish(),
  confidence: z.number().min(0).max(1).nullish(),
  durationMs: z.number().int().min(0).nullish(),
});
export type TranscriptionInput = z.input<typeof transcriptionInput>;

export class TranscriptionRepository {
  constructor(private readonly writer: DurableWriter) {}

  /** Stores one STT result; returns its id. Journaled while PostgreSQL is away. */
  async record(input: TranscriptionInput): Promise<string> {
    const parsed = transcriptionInput.parse(input);
    const write: TranscriptionInsertWrite = {
      kind: "transcription.insert",
      id: parsed.id ?? randomUUID(),
      sessionId: parsed.sessionRowId,
      messageId: parsed.messageId ?? null,
      transcription: parsed.transcription,
      language: parsed.language ?? null,
      confidence: parsed.confidence ?? null,
      durationMs: parsed.durationMs ?? null,
      createdAt: new Date().toISOString(),
    };
    await this.writer.write(write, (db) => applyTranscriptionInsert(db, write));
    return write.id;
  }
}

export interface TtsKey {
  /** sha256 hex of the text: use hashTtsText(). */
  textHash: string;
  voice: string;
  speed: number;
  audioFormat: string;
}

export interface TtsEntry extends TtsKey {
  id: string;
  messageId: string | null;
  sampleRate: number;
  durationMs: number | null;
  audio: Uint8Array;
  createdAt: string;
}

export const ttsSaveInput = z.strictObject({
  textHash: z.string().regex(/^[0-9a-f]{64}$/),
  voice: z.string().min(1).max(100),
  speed: z.number().positive().max(10),
  audioFormat: z.string().min(1).max(40),
  sampleRate: z.number().int().positive().max(384_000),
  durationMs: z.number().int().min(0).nullish(),
  messageId: z.uuid().nullish(),
  audio: z.instanceof(Uint8Array),
});
export type TtsSaveInput = z.input<typeof ttsSaveInput>;

export function hashTtsText(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Speeds are stored as REAL; rounding keeps 1.1 and 1.1000000238 the same key. */
const speedKey = (speed: number): number => Math.round(speed * 1000) / 1000;

export class TtsCacheRepository {
  constructor(private readonly writer: DurableWriter) {}

  /** The cached synthesis, or null (also null while PostgreSQL is away). */
  async find(key: TtsKey): Promise<TtsEntry | null> {
    if (!this.writer.available) return null;
    const [row] = await this.writer
      .read((db) =>
        db
          .select()
          .from(ttsGenerations)
          .where(
            and(
              eq(ttsGenerations.textHash, key.textHash),
              eq(ttsGenerations.voice, key.voice),
              eq(ttsGenerations.speed, speedKey(key.speed)),
              eq(ttsGenerations.audioFormat, key.audioFormat),
            ),
          ),
      )
      .catch(() => []);
    if (!row) return null;
    return {
      id: row.id,
      messageId: row.messageId,
      textHash: row.textHash,
      voice: row.voice,
      speed: row.speed,
      audioFormat: row.audioFormat,
      sampleRate: row.sampleRate,
      durationMs: row.durationMs,
      audio: new Uint8Array(row.audio),
      createdAt: row.createdAt.toISOString(),
    };
  }

  /** Caches a synthesis; the first save of a key wins. False when skipped (PostgreSQL away). */
  async save(input: TtsSaveInput): Promise<boolean> {
    const parsed = ttsSaveInput.parse(input);
    return this.writer.bestEffort((db) =>
      db
        .insert(ttsGenerations)
        .values({ ...parsed, speed: speedKey(parsed.speed), durationMs: parsed.durationMs ?? null, messageId: parsed.messageId ?? null })
        .onConflictDoNothing(),
    );
  }
}
