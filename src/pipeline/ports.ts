/**
 * What the pipeline needs from storage, and nothing more. src/storage implements these over the
 * three-tier conversation manager and PostgreSQL; the pipeline never sees a table.
 */
import type { ChatMessage } from "./text/chat-template";

/** A message of the conversation's recent context, as the LLM sees it. */
export type ContextMessage = ChatMessage;

export interface NewMessage {
  role: "user" | "assistant";
  content: string;
  tokensUsed?: number;
  processingTimeMs?: number;
  interrupted?: boolean;
  metadata?: Record<string, unknown>;
}

export interface TranscriptionRecord {
  messageId: string;
  text: string;
  language: string;
  confidence: number;
  durationMs: number;
}

export interface CachedSynthesis {
  /** 16-bit PCM at `sampleRate`. */
  pcm: Uint8Array;
  sampleRate: number;
  durationMs: number;
}

export interface SynthesisKey {
  text: string;
  voice: string;
  speed: number;
  audioFormat: string;
}

/** The session's conversation no longer exists (it was deleted): no turn of the session can go on. */
export class ConversationGoneError extends Error {
  override readonly name = "ConversationGoneError";
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} was deleted`);
  }
}

export interface PipelineStore {
  /** Recent turns of the conversation, oldest first, within the configured budget. Throws ConversationGoneError once it is deleted. */
  context(conversationId: string): Promise<ContextMessage[]>;
  /** Durable before it resolves. Throws ConversationGoneError once the conversation is deleted. */
  appendMessage(conversationId: string, message: NewMessage): Promise<{ id: string }>;
  recordTranscription(sessionRowId: string, record: TranscriptionRecord): Promise<void>;
  cachedSynthesis(key: SynthesisKey): Promise<CachedSynthesis | undefined>;
  storeSynthesis(key: SynthesisKey, messageId: string | undefined, audio: CachedSynthesis): Promise<void>;
}

/** Session bookkeeping in PostgreSQL. */
export interface SessionStore {
  /**
   * The conversation a session talks in: `conversationId` continues an existing one of this user
   * (undefined when it does not exist or belongs to someone else), "latest" the one the user used
   * last (a new one if there is none); none starts a new one.
   */
  openConversation(userId: string, conversationId?: string): Promise<{ id: string } | undefined>;
  startSession(row: { sessionId: string; userId: string; conversationId: string; type: string }): Promise<{ rowId: string }>;
  /** Marks the session ended; the duration is measured by the database from its start. */
  endSession(sessionId: string, status: string): Promise<void>;
  /** The session was resumed after its instance shut down: it is active again. */
  reopenSession(sessionId: string): Promise<void>;
}

/** What another server instance needs to take a session over. */
export interface SessionSnapshot {
  sessionId: string;
  userId: string;
  conversationId: string;
  sessionRowId: string;
  resumeToken: string;
  settings: import("./settings").ResolvedSettings;
  lastSeq: number;
  startedAt: number;
}

/** Session state and the replay buffer in Redis (`session:{id}`), shared by every instance. */
export interface SessionStatePort {
  save(snapshot: SessionSnapshot): Promise<void>;
  /**
   * Raises the session's reserved sequence number (`session:{id}:seq`) to at least `floor`, reserves
   * `count` more, and returns the new highest reserved number. Only the session's owner numbers
   * messages, inside what it reserved; a successor reserves above it, so its numbers continue.
   */
  reserveSeq(sessionId: string, floor: number, count: number): Promise<number>;
  load(sessionId: string): Promise<SessionSnapshot | undefined>;
  remove(sessionId: string): Promise<void>;
  /** Appends a sent message (bounded; oldest dropped). Fire-and-forget on the hot path. */
  appendReplay(sessionId: string, seq: number, json: string): void;
  /** Messages with seq > lastSeq, in order. */
  replaySince(sessionId: string, lastSeq: number): Promise<string[]>;
  /** Buffered input audio of the current utterance (`audio:buffer:{id}`), bounded. */
  appendAudio(sessionId: string, pcm: Uint8Array): void;
  clearAudio(sessionId: string): void;
  /** Writes appends still held back for batching (before shutdown, so another instance sees them). */
  flush(): Promise<void>;
  /**
   * Records how far a reply has got (`session:{id}:reply`), so that if this instance dies the session's
   * next owner can store it as heard. Coalesced; fire-and-forget on the hot path.
   */
  replyProgress(sessionId: string, progress: ReplyProgress): void;
  /**
   * Before storing a reply: true unless another instance has taken it over (and stores it itself).
   * Exactly one of the two stores it. Forgets the reply's progress either way.
   */
  claimReply(sessionId: string, turnId: string): Promise<boolean>;
  /** The replies a previous owner left unfinished, taken atomically (one taker gets them). */
  takeOrphanedReplies(sessionId: string): Promise<ReplyProgress[]>;
}

/** A reply in progress, as a successor needs it to store what was heard. */
export interface ReplyProgress {
  turnId: string;
  /** The text of the reply audio sent so far: what the client will have played. */
  heardText: string;
  heardMs: number;
  /** The reply as generated (and sent as text) so far. */
  text: string;
  tokens: number;
}

/**
 * Which instance owns a live session: a lease (`session:{id}:owner`) renewed while the session lives
 * here, and a notice to every instance when a session changes hands, so a previous owner lets go.
 */
export interface SessionOwnershipPort {
  readonly instanceId: string;
  /** How often the owner renews its leases. */
  readonly renewIntervalMs: number;
  /** Records this instance as the owner and (unless `announce` is false: a new session) tells the others, so a previous owner lets go. */
  claim(sessionId: string, announce?: boolean): Promise<void>;
  /** Renews this instance's leases; returns the sessions another instance has taken over meanwhile. */
  renew(sessionIds: string[]): Promise<string[]>;
  /** Whether another instance holds the session's lease now. */
  ownedElsewhere(sessionId: string): Promise<boolean>;
  /** Gives the lease up, if it is still this instance's. */
  release(sessionId: string): Promise<void>;
  /** `listener` hears of each session another instance claims. */
  onTakenOver(listener: (sessionId: string) => void): void;
}
