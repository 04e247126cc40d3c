/**
 * The durable-intent queue: writes accepted while PostgreSQL was away, in acceptance order.
 * Each write is appended to a local journal (JSON lines, fsync'd) before it is acknowledged, so a
 * process restart loses nothing; the journal is replayed in order on start. Every write carries its
 * own UUID and is applied idempotently, so replaying a write that already reached PostgreSQL
 * (crash between commit and journal trim) changes nothing: exactly once.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface ConversationCreateWrite {
  kind: "conversation.create";
  id: string;
  conversationId: string;
  userId: string;
  createdAt: string;
}

export interface ConversationDeleteWrite {
  kind: "conversation.delete";
  id: string;
}

export interface MessageAppendWrite {
  kind: "message.append";
  id: string;
  conversationId: string;
  role: "system" | "user" | "assistant";
  content: string;
  tokensUsed: number | null;
  processingTimeMs: number | null;
  interrupted: boolean;
  metadata: Record<string, unknown>;
  createdAt: string;
}

export interface SessionStartWrite {
  kind: "session.start";
  id: string;
  sessionId: string;
  userId: string;
  conversationId: string | null;
  sessionType: string;
  createdAt: string;
}

export interface SessionEndWrite {
  kind: "session.end";
  sessionId: string;
  status: string;
  endedAt: string;
}

/** A session resumed after its instance shut down is active again (its `shutdown` end undone). */
export interface SessionReopenWrite {
  kind: "session.reopen";
  sessionId: string;
}

export interface TranscriptionInsertWrite {
  kind: "transcription.insert";
  id: string;
  sessionId: string;
  messageId: string | null;
  transcription: string;
  language: string | null;
  confidence: number | null;
  durationMs: number | null;
  createdAt: string;
}

export type PendingWrite =
  | ConversationCreateWrite
  | ConversationDeleteWrite
  | MessageAppendWrite
  | SessionStartWrite
  | SessionEndWrite
  | SessionReopenWrite
  | TranscriptionInsertWrite;

export const JOURNAL_FILE = "pending-writes.jsonl";
export const DEAD_LETTER_FILE = "dead-letter.jsonl";

export class PendingWriteQueue {
  readonly #writes: PendingWrite[] = [];
  readonly #journalPath: string | null;
  readonly #deadLetterPath: string | null;

  /** `journalDir` null keeps the queue in memory only (tests, PGlite). */
  constructor(private readonly journalDir: string | null) {
    this.#journalPath = journalDir ? join(journalDir, JOURNAL_FILE) : null;
    this.#deadLetterPath = journalDir ? join(journalDir, DEAD_LETTER_FILE) : null;
    this.#load();
  }

  get size(): number {
    return this.#writes.length;
  }

  /** Oldest first; a copy. */
  snapshot(): PendingWrite[] {
    return [...this.#writes];
  }

  peek(): PendingWrite | undefined {
    return this.#writes[0];
  }

  /** Journals then queues `write`; when this returns, the write survives a crash. */
  enqueue(write: PendingWrite): void {
    if (this.#journalPath) appendDurably(this.#journalPath, `${JSON.stringify(write)}\n`, this.journalDir!);
    this.#writes.push(write);
  }

  /** Drops the oldest write after it reached PostgreSQL. Call persist() after a batch. */
  shift(): PendingWrite | undefined {
    return this.#writes.shift();
  }

  /** Moves the oldest write aside (it can never apply); kept in dead-letter.jsonl for an operator. */
  deadLetter(reason: string): PendingWrite | undefined {
    const write = this.#writes.shift();
    if (write && this.#deadLetterPath) {
      appendDurably(this.#deadLetterPath, `${JSON.stringify({ reason, write, at: new Date().toISOString() })}\n`, this.journalDir!);
    }
    return write;
  }

  /** Rewrites the journal to hold exactly the queued writes (atomic rename). */
  persist(): void {
    if (!this.#journalPath) return;
    const temporary = `${this.#journalPath}.tmp`;
    const fd = openSync(temporary, "w");
    try {
      const body = this.#writes.map((write) => `${JSON.stringify(write)}\n`).join("");
      if (body) writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.#journalPath);
  }

  #load(): void {
    if (!this.#journalPath || !existsSync(this.#journalPath)) return;
    const lines = readFileSync(this.#journalPath, "utf8").split("\n");
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        this.#writes.push(JSON.parse(line) as PendingWrite);
      } catch {
        // A torn last line from a crash mid-append: that write was never acknowledged.
      }
    }
  }
}

function appendDurably(path: string, text: string, directory: string): void {
  mkdirSync(directory, { recursive: true });
  const fd = openSync(path, "a");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
