/**
 * Creates, finds, resumes and ends voice sessions. A session outlives its socket for the resume
 * window; its state lives in Redis so a client may resume on another instance, where the session
 * is rebuilt from its snapshot and the missed messages are replayed from Redis.
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { OutgoingMessage, SessionSettings } from "../protocol/messages";
import type { Observers } from "../telemetry/events";
import type { Models } from "../inference/types";
import { sessionLogger } from "../logging/index.ts";
import type { PipelineStore, SessionOwnershipPort, SessionSnapshot, SessionStatePort, SessionStore } from "./ports";
import { type ResolvedSettings, applySettings } from "./settings";
import { SEQ_BLOCK, type Transport, VoiceSession } from "./session";
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
  /** Live sessions allowed per user and per API key (quotas.sessionsPerUser / sessionsPerKey). */
  limits: { sessionsPerUser: number; sessionsPerKey: number };
  /** Conversation writes a session may have under way (quotas.maxPendingWrites). */
  maxPendingWrites: number;
  /** Which instance owns each session; a session claimed elsewhere is let go here. */
  ownership: SessionOwnershipPort;
}

/** How often a drain checks whether the replies in progress have finished. */
const DRAIN_POLL_MS = 25;

/** How long ending a session may hold its client; the rest of the clean-up goes on in the background. */
const STOP_ANSWER_MS = 500;

/** The user every unauthenticated local caller shares: not one person, so not held to a per-user quota. */
export const SHARED_USER = "anonymous";

export class SessionError extends Error {
  constructor(
    readonly code: "not_found" | "resume_failed" | "invalid_settings" | "rate_limited",
    message: string,
  ) {
    super(message);
  }
}

export class SessionManager {
  private readonly live = new Map<string, VoiceSession>();
  private readonly expiry = new Map<string, Timer>();
  /** The API key each live session was started with, for the per-key quota. */
  private readonly keys = new Map<string, string>();
  /** Starts under way (between the quota check and the session existing), so concurrent starts cannot overshoot. */
  private readonly starting: { userId: string; keyId?: string }[] = [];

  private readonly renewal: Timer;

  constructor(private readonly deps: SessionManagerDeps) {
    deps.observers.provide("active_sessions", () => this.live.size);
    deps.ownership.onTakenOver((sessionId) => void this.letGo(sessionId));
    this.renewal = setInterval(() => void this.renewLeases(), deps.ownership.renewIntervalMs);
    this.renewal.unref?.();
  }

  async start(options: SessionSettings & { user_id?: string; conversation_id?: string; key_id?: string }): Promise<VoiceSession> {
    const userId = options.user_id ?? SHARED_USER;
    this.checkQuota(userId, options.key_id);
    const reservation = { userId, keyId: options.key_id };
    this.starting.push(reservation);
    const release = () => {
      const at = this.starting.indexOf(reservation);
      if (at >= 0) this.starting.splice(at, 1);
    };
    try {
      return await this.open(userId, options, release);
    } finally {
      release();
    }
  }

  /** Creates the session; `counted` is called once it is live, when the quotas count it instead of its reservation. */
  private async open(userId: string, options: SessionSettings & { conversation_id?: string; key_id?: string }, counted: () => void): Promise<VoiceSession> {
    await this.checkSettings(options);
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
    const ceiling = await this.deps.state.reserveSeq(sessionId, 0, SEQ_BLOCK);
    const session = this.build(snapshot, applySettings(this.deps.defaults, options), { after: ceiling - SEQ_BLOCK, ceiling });
    if (options.key_id !== undefined) this.keys.set(sessionId, options.key_id);
    counted();
    // A new session has no previous owner to tell.
    await Promise.all([session.saveState(), this.deps.ownership.claim(sessionId, false)]);
    this.deps.observers.observe({ type: "session_opened", sessionId, resumed: false });
    return session;
  }

  /**
   * Finds the session here, or rebuilds it from Redis; checks the resume token (and, given `owner`,
   * that the session is that user's) either way. Returns the messages after `lastSeq` kept in Redis,
   * for when this instance's memory no longer has them.
   */
  async resume(
    sessionId: string,
    resumeToken: string,
    lastSeq: number,
    owner?: string,
  ): Promise<{ session: VoiceSession; missed: string[]; recovered: OutgoingMessage[] }> {
    const local = this.live.get(sessionId);
    if (local && !local.isEnded) {
      this.checkOwner(sessionId, local.snapshot.userId, owner);
      this.checkToken(local.snapshot.resumeToken, resumeToken);
      // A copy another instance has taken over (its notice missed) is stale: rebuild from Redis below.
      if (await this.deps.ownership.ownedElsewhere(sessionId)) await this.letGo(sessionId);
      else {
        this.cancelExpiry(sessionId);
        const missed = local.replaySince(lastSeq) ? [] : await this.deps.state.replaySince(sessionId, lastSeq);
        return { session: local, missed, recovered: [] };
      }
    }
    const saved = await this.deps.state.load(sessionId);
    if (!saved) throw unknownSession(sessionId);
    this.checkOwner(sessionId, saved.userId, owner);
    this.checkToken(saved.resumeToken, resumeToken);
    // Taken over before anything is read: a previous owner that is alive lets go and stops writing.
    const previousOwner = await this.deps.ownership.ownedElsewhere(sessionId);
    await this.deps.ownership.claim(sessionId);
    if (previousOwner) this.deps.log.info({ session_id: sessionId }, "session taken over from another instance");
    const { settings, lastSeq: savedSeq, ...snapshot } = saved;
    const replay = (await this.deps.state.replaySince(sessionId, 0)).map((json) => ({ json, seq: (JSON.parse(json) as { seq: number }).seq }));
    // Number above everything the previous owner reserved (it may have died mid-block), and above
    // anything it is known to have sent, should the counter have been lost with a Redis restart.
    const floor = replay.reduce((max, m) => Math.max(max, m.seq), savedSeq);
    const ceiling = await this.deps.state.reserveSeq(sessionId, floor, SEQ_BLOCK);
    const session = this.build(snapshot, settings, { after: ceiling - SEQ_BLOCK, ceiling });
    // An instance that shut down recorded the session as `shutdown`: it lives on here.
    await this.deps.sessions.reopenSession(sessionId).catch((error) => {
      this.deps.log.warn({ err: error, session_id: sessionId }, "recording the resumed session as active failed");
    });
    const missed = replay.filter((m) => m.seq > lastSeq).map((m) => m.json);
    const recovered = await this.recoverReplies(sessionId, snapshot.conversationId);
    this.deps.observers.observe({ type: "session_opened", sessionId, resumed: true });
    return { session, missed, recovered };
  }

  /**
   * Stores the replies a previous owner left cut short (it died mid-reply) as interrupted, with what
   * had been sent of them; returns the notices for the client, sent after its resumed session_started.
   */
  private async recoverReplies(sessionId: string, conversationId: string): Promise<OutgoingMessage[]> {
    const orphans = await this.deps.state.takeOrphanedReplies(sessionId);
    const notices: OutgoingMessage[] = [];
    for (const reply of orphans) {
      try {
        await this.deps.store.appendMessage(conversationId, {
          role: "assistant",
          content: reply.heardText,
          interrupted: true,
          tokensUsed: reply.tokens,
          metadata: { turn_id: reply.turnId, full_text: reply.text, cut_by: "instance_lost" },
        });
        this.deps.log.info({ session_id: sessionId, turn_id: reply.turnId }, "stored a reply cut by the previous owner's end as interrupted");
      } catch (error) {
        this.deps.log.error({ err: error, session_id: sessionId, turn_id: reply.turnId }, "storing a reply cut by the previous owner's end failed");
      }
      notices.push({ type: "interrupted", data: { turn_id: reply.turnId, heard_text: reply.heardText, heard_ms: reply.heardMs, reason: "server" } });
    }
    return notices;
  }

  /** Live sessions of a user (those waiting for a resume included): what the per-user quota counts. */
  private liveSessionsOf(userId: string): number {
    let count = this.starting.filter((s) => s.userId === userId).length;
    for (const session of this.live.values()) if (session.snapshot.userId === userId && !session.isEnded) count += 1;
    return count;
  }

  /** Whether one more session for this user (and key) is within the quotas; throws a SessionError if not. */
  checkQuota(userId: string, keyId?: string): void {
    const { sessionsPerUser, sessionsPerKey } = this.deps.limits;
    if (userId !== SHARED_USER && this.liveSessionsOf(userId) >= sessionsPerUser) {
      throw new SessionError("rate_limited", `user ${userId} already has ${sessionsPerUser} sessions, the most allowed at once; stop one first`);
    }
    if (keyId !== undefined) {
      let count = this.starting.filter((s) => s.keyId === keyId).length;
      for (const key of this.keys.values()) if (key === keyId) count += 1;
      if (count >= sessionsPerKey) {
        throw new SessionError("rate_limited", `this API key already has ${sessionsPerKey} sessions, the most allowed at once; stop one first`);
      }
    }
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
    // Ended, or already bound to the connection that resumed it.
    if (session.isEnded || session.attached) return;
    void session.saveState();
    this.cancelExpiry(session.id);
    const timer = setTimeout(() => void this.end(session, "expired"), this.deps.resumeWindowMs);
    this.expiry.set(session.id, timer);
  }

  async end(session: VoiceSession, status: "completed" | "expired" | "shutdown"): Promise<number> {
    this.cancelExpiry(session.id);
    const wasLive = this.live.delete(session.id);
    this.keys.delete(session.id);
    // A client's stop is answered within STOP_ANSWER_MS; a shutdown waits for the replies to be stored.
    const duration = await session.end(status === "shutdown" ? Number.POSITIVE_INFINITY : STOP_ANSWER_MS);
    if (wasLive) this.deps.observers.observe({ type: "session_closed", sessionId: session.id, status });
    try {
      // Expired or shut down here, but resumed on another instance meanwhile: it lives on there.
      if (status !== "completed" && (await this.deps.ownership.ownedElsewhere(session.id))) return duration;
      await this.deps.sessions.endSession(session.id, status);
      // A shut-down instance leaves the state so the client can resume elsewhere.
      if (status !== "shutdown") await this.deps.state.remove(session.id);
      else await this.deps.ownership.release(session.id);
    } catch (error) {
      this.deps.log.error({ err: error, session_id: session.id }, "recording the end of the session failed");
    }
    return duration;
  }

  /**
   * Drain: tells every connected client `going_away` (with what it needs to resume elsewhere), then
   * waits until no reply is in progress, or `deadlineMs` passed. The caller then ends the sessions
   * (a reply still running is stored as heard) and closes the sockets with 1001.
   */
  async drain(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (const session of this.live.values()) {
      if (session.isEnded || !session.attached) continue;
      session.send({ type: "going_away", data: { session_id: session.id, resume_token: session.snapshot.resumeToken, deadline_ms: deadlineMs } });
    }
    const replying = () => [...this.live.values()].some((session) => session.replying);
    while (replying() && Date.now() < deadline) await Bun.sleep(DRAIN_POLL_MS);
    if (replying()) this.deps.log.warn({ drain_ms: deadlineMs }, "drain deadline passed with replies still in progress; they are stored as heard");
  }

  async endAll(status: "shutdown"): Promise<void> {
    clearInterval(this.renewal);
    await Promise.allSettled([...this.live.values()].map((session) => this.end(session, status)));
    await this.deps.state.flush();
  }

  /** Another instance claimed the session: drop this copy (its client is closed with 4003). */
  private async letGo(sessionId: string): Promise<void> {
    const session = this.live.get(sessionId);
    if (!session) return;
    this.cancelExpiry(sessionId);
    this.live.delete(sessionId);
    this.keys.delete(sessionId);
    this.deps.log.info({ session_id: sessionId }, "session taken over by another instance; letting go");
    this.deps.observers.observe({ type: "session_closed", sessionId, status: "taken_over" });
    await session.release();
  }

  private async renewLeases(): Promise<void> {
    try {
      const lost = await this.deps.ownership.renew([...this.live.keys()]);
      await Promise.all(lost.map((sessionId) => this.letGo(sessionId)));
    } catch (error) {
      this.deps.log.warn({ err: error }, "renewing session leases failed");
    }
  }

  private build(snapshot: Omit<SessionSnapshot, "settings" | "lastSeq">, settings: ResolvedSettings, seqs: { after: number; ceiling: number }) {
    const log = sessionLogger(snapshot.sessionId, this.deps.log);
    const session = new VoiceSession(snapshot, settings, { ...this.deps, log }, seqs);
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
