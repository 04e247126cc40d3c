/**
 * Creates, finds, resumes and ends voice sessions. A session outlives its socket for the resume
 * window; its state lives in Redis so a client may resume on another instance, where the session
 * is rebuilt from its snapshot and the missed messages are replayed from Redis.
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { SessionSettings } from "../protocol/messages";
import type { Observers } from "../telemetry/events";
import type { Models } from "../inference/types";
import { sessionLogger } from "../logging/index.ts";
import type { PipelineStore, SessionSnapshot, SessionStatePort, SessionStore } from "./ports";
import { type ResolvedSettings, applySettings } from "./settings";
import { type Transport, VoiceSession } from "./session";
import type { ChatTemplate } from "./text/chat-template";

export interface SessionManagerDeps {
  models: Models;
  store: PipelineStore;
  sessions: SessionStore;
  state: SessionStatePort;
  log: Logger;
  defaults: ResolvedSettings;
  chunkBytes: number;
  audioLeadMs: number;
  replayLimit: number;
  chatTemplate: ChatTemplate;
  /** How long a disconnected session waits for its client to resume. */
  resumeWindowMs: number;
  observers: Observers;
}

export class SessionError extends Error {
  constructor(
    readonly code: "not_found" | "resume_failed" | "invalid_settings",
    message: string,
  ) {
    super(message);
  }
}

export class SessionManager {
  private readonly live = new Map<string, VoiceSession>();
  private readonly expiry = new Map<string, Timer>();

  constructor(private readonly deps: SessionManagerDeps) {
    deps.observers.provide("active_sessions", () => this.live.size);
  }

  async start(options: SessionSettings & { user_id?: string; conversation_id?: string }): Promise<VoiceSession> {
    await this.checkSettings(options);
    const userId = options.user_id ?? "anonymous";
    const conversation = await this.deps.sessions.openConversation(userId, options.conversation_id);
    if (!conversation) {
      throw new SessionError("not_found", `conversation ${options.conversation_id} does not exist for user ${userId}`);
    }
    const sessionId = randomUUID();
    const { rowId } = await this.deps.sessions.startSession({
      sessionId,
      userId,
      conversationId: conversation.id,
      type: "voice",
    });
    const snapshot = {
      sessionId,
      userId,
      conversationId: conversation.id,
      sessionRowId: rowId,
      resumeToken: randomBytes(24).toString("base64url"),
      startedAt: Date.now(),
    };
    const session = this.build(snapshot, applySettings(this.deps.defaults, options), 0);
    await session.saveState();
    this.deps.observers.observe({ type: "session_opened", sessionId, resumed: false });
    return session;
  }

  /**
   * Finds the session here, or rebuilds it from Redis; checks the resume token (and, given `owner`,
   * that the session is that user's) either way. Returns the messages after `lastSeq` kept in Redis,
   * for when this instance's memory no longer has them.
   */
  async resume(sessionId: string, resumeToken: string, lastSeq: number, owner?: string): Promise<{ session: VoiceSession; missed: string[] }> {
    const local = this.live.get(sessionId);
    if (local && !local.isEnded) {
      this.checkOwner(sessionId, local.snapshot.userId, owner);
      this.checkToken(local.snapshot.resumeToken, resumeToken);
      this.cancelExpiry(sessionId);
      const missed = local.replaySince(lastSeq) ? [] : await this.deps.state.replaySince(sessionId, lastSeq);
      return { session: local, missed };
    }
    const saved = await this.deps.state.load(sessionId);
    if (!saved) throw unknownSession(sessionId);
    this.checkOwner(sessionId, saved.userId, owner);
    this.checkToken(saved.resumeToken, resumeToken);
    const { settings, lastSeq: savedSeq, ...snapshot } = saved;
    const missed = await this.deps.state.replaySince(sessionId, lastSeq);
    // The old instance may have sent more after its last snapshot: continue after the newest seq.
    const newestSeq = missed.reduce((max, json) => Math.max(max, (JSON.parse(json) as { seq: number }).seq), savedSeq);
    const session = this.build(snapshot, settings, newestSeq);
    this.deps.observers.observe({ type: "session_opened", sessionId, resumed: true });
    return { session, missed };
  }

  /** Applies a client's `config` once what it asks for is known to be available. */
  async configure(session: VoiceSession, patch: SessionSettings): Promise<void> {
    await this.checkSettings(patch);
    session.handle({ type: "config", data: patch });
  }

  /** Checks settings against what is installed; throws a SessionError naming the problem. */
  private async checkSettings(patch: SessionSettings): Promise<void> {
    if (patch.voice === undefined) return;
    let installed: string[];
    try {
      installed = await this.deps.models.tts.voices();
    } catch (error) {
      // The TTS model will name the problem itself when it is asked to speak.
      this.deps.log.warn({ err: error }, "could not read the installed voices; the voice is not checked");
      return;
    }
    if (!installed.includes(patch.voice)) {
      throw new SessionError("invalid_settings", `voice: unknown voice "${patch.voice}"; installed voices: ${installed.join(", ")}`);
    }
  }

  /** The socket went away: keep the session for the resume window, then end it. */
  detach(session: VoiceSession, transport: Transport): void {
    session.detach(transport);
    if (session.isEnded) return;
    void session.saveState();
    this.cancelExpiry(session.id);
    const timer = setTimeout(() => void this.end(session, "expired"), this.deps.resumeWindowMs);
    this.expiry.set(session.id, timer);
  }

  async end(session: VoiceSession, status: "completed" | "expired" | "shutdown"): Promise<number> {
    this.cancelExpiry(session.id);
    const wasLive = this.live.delete(session.id);
    const duration = await session.end();
    if (wasLive) this.deps.observers.observe({ type: "session_closed", sessionId: session.id, status });
    try {
      await this.deps.sessions.endSession(session.id, status);
      // A shut-down instance leaves the state so the client can resume elsewhere.
      if (status !== "shutdown") await this.deps.state.remove(session.id);
    } catch (error) {
      this.deps.log.error({ err: error, session_id: session.id }, "recording the end of the session failed");
    }
    return duration;
  }

  async endAll(status: "shutdown"): Promise<void> {
    await Promise.allSettled([...this.live.values()].map((session) => this.end(session, status)));
    await this.deps.state.flush();
  }

  private build(snapshot: Omit<SessionSnapshot, "settings" | "lastSeq">, settings: ResolvedSettings, lastSeq: number) {
    const log = sessionLogger(snapshot.sessionId, this.deps.log);
    const session = new VoiceSession(snapshot, settings, { ...this.deps, log }, lastSeq);
    this.live.set(session.id, session);
    return session;
  }

  /** Another user's session is reported exactly like a missing one: nothing about it is revealed. */
  private checkOwner(sessionId: string, userId: string, owner: string | undefined): void {
    if (owner !== undefined && owner !== userId) throw unknownSession(sessionId);
  }

  private checkToken(expected: string, given: string): void {
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new SessionError("resume_failed", "resume token does not match the session");
    }
  }

  private cancelExpiry(sessionId: string): void {
    clearTimeout(this.expiry.get(sessionId));
    this.expiry.delete(sessionId);
  }
}

function unknownSession(sessionId: string): SessionError {
  return new SessionError("resume_failed", `session ${sessionId} is unknown or its resume window has passed`);
}
