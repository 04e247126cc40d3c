/**
 * One WebSocket client: validates every frame against the protocol, binds the connection to a
 * session (start or resume), enforces the limits, and closes abusive, idle or non-reading clients
 * with a clear close code. Framework-free: the route adapts Bun's socket to `ClientSocket`.
 */
import type { Logger } from "pino";
import { sessionLogger } from "../../logging/index.ts";
import {
  CLOSE_CODES,
  type ClientMessage,
  type ErrorCode,
  LIMITS,
  type OutgoingMessage,
  parseClientMessage,
} from "../../protocol/messages";
import type { Transport, VoiceSession } from "../../pipeline/session";
import { SessionError, type SessionManager } from "../../pipeline/sessions";
import type { Observers } from "../../telemetry/events";
import { actingUser, hasScope, type Principal } from "../auth/principal.ts";
import { TokenBucket } from "./token-bucket";

export interface ClientSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  ping(): void;
  /** Bytes queued for the client and not yet written. */
  bufferedAmount(): number;
}

export interface ConnectionOptions {
  /** Who opened the socket: the session's user comes from here, never from a message; its keyId feeds the per-key session quota. */
  principal: Principal;
  /** From `/ws/stream/:user_id` (checked against the principal at the upgrade); a `start` may not claim another user. */
  pathUserId?: string;
  idleTimeoutMs: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  /** Turns (text, utterance_end, interrupt) a session may start: a token bucket. */
  turns: { ratePerSecond: number; burst: number };
  /** Client messages that may wait to be handled; more are refused with rate_limited. */
  maxQueuedMessages: number;
}

/** Messages that start (or cancel) a turn, and so cost model requests and row writes: these are rate-limited. */
const TURN_MESSAGES = new Set<ClientMessage["type"]>(["text", "utterance_end", "interrupt"]);

export class ClientConnection implements Transport {
  private session?: VoiceSession;
  private consecutiveErrors = 0;
  private lastReceivedAt = Date.now();
  private lastPingAt = Date.now();
  private queue: Promise<void> = Promise.resolve();
  /** Messages enqueued and not yet handled. */
  private queued = 0;
  /** Bumped by `stop`: work queued before it is skipped, so stop does not wait behind it. */
  private generation = 0;
  private closed = false;
  private readonly turns: TokenBucket;

  constructor(
    private readonly socket: ClientSocket,
    private readonly sessions: SessionManager,
    private readonly options: ConnectionOptions,
    private log: Logger,
    private readonly observers: Observers,
  ) {
    this.turns = new TokenBucket(options.turns);
  }

  /** Transport: a message of the bound session. */
  send(json: string): void {
    if (this.closed) return;
    this.socket.send(json);
    this.observers.observe({ type: "message_sent" });
    if (this.socket.bufferedAmount() > this.options.maxBufferedBytes) {
      this.observers.observe({ type: "slow_consumer_close" });
      this.close(CLOSE_CODES.slowConsumer, "client is not reading: send buffer over its limit");
    }
  }

  onText(raw: string): void {
    this.lastReceivedAt = Date.now();
    if (raw.length > LIMITS.maxFrameBytes) {
      this.observers.observe({ type: "message_received", messageType: "invalid" });
      this.close(CLOSE_CODES.messageTooBig, `frame over ${LIMITS.maxFrameBytes} bytes`);
      return;
    }
    const parsed = parseClientMessage(raw);
    this.observers.observe({ type: "message_received", messageType: parsed.ok ? parsed.message.type : "invalid" });
    if (!parsed.ok) {
      this.reject(parsed.code, parsed.message);
      return;
    }
    const message = parsed.message;
    // Keep-alive belongs to the connection: answered at once, before start and behind no queue.
    if (message.type === "ping") return this.pong(message.data?.timestamp);
    if (message.type === "stop") {
      // Stop overtakes what is queued: that work is dropped, not waited for.
      this.generation += 1;
      this.enqueue(() => this.stop(), true);
      return;
    }
    if (this.session && TURN_MESSAGES.has(message.type) && !this.turns.take()) {
      const wait = this.turns.msUntilNext();
      return this.reject("rate_limited", `${message.type} refused: more than ${this.options.turns.ratePerSecond} turns per second (burst ${this.options.turns.burst}); retry in ${wait} ms`);
    }
    this.enqueue(() => this.dispatch(message));
  }

  /** Binary frames carry 16-bit PCM audio at the session's input rate. */
  onBinary(bytes: Uint8Array): void {
    this.lastReceivedAt = Date.now();
    this.observers.observe({ type: "message_received", messageType: "binary_audio" });
    this.enqueue(async () => {
      if (!this.session) return this.reject("not_started", "binary audio before start: send a start message first");
      this.withAudioErrors(() => this.session!.pushAudio(bytes));
    });
  }

  /** The socket closed: the session waits for a resume. */
  onClose(): void {
    this.closed = true;
    if (this.session) this.sessions.detach(this.session, this);
  }

  /** Called periodically: keep-alive pings and the idle timeout. */
  tick(now = Date.now()): void {
    if (this.closed) return;
    if (now - this.lastReceivedAt > this.options.idleTimeoutMs) {
      this.close(CLOSE_CODES.idleTimeout, `no message for ${Math.round(this.options.idleTimeoutMs / 1000)} s`);
      return;
    }
    if (now - this.lastPingAt >= this.options.pingIntervalMs) {
      this.lastPingAt = now;
      this.socket.ping();
    }
  }

  /** Closes for server shutdown: the session stays resumable elsewhere. */
  shutdown(): void {
    this.close(CLOSE_CODES.goingAway, "server shutting down; resume on another instance");
  }

  /** Runs `work` after what is queued; refuses it when the backlog is full (a flood is shed here, at its source). */
  private enqueue(work: () => Promise<void> | void, always = false): void {
    if (!always && this.queued >= this.options.maxQueuedMessages) {
      this.reject("rate_limited", `more than ${this.options.maxQueuedMessages} messages are waiting to be handled; this one was dropped`);
      return;
    }
    this.queued += 1;
    const generation = this.generation;
    this.queue = this.queue
      .then(() => (always || generation === this.generation ? work() : undefined))
      .catch((error) => {
        this.log.error({ err: error }, "message handling failed");
        this.reject("internal", "the server could not handle that message", true);
      })
      .finally(() => {
        this.queued -= 1;
      });
  }

  private pong(timestamp = Date.now()): void {
    const pong: OutgoingMessage = { type: "pong", data: { timestamp } };
    if (this.session) this.session.send(pong);
    else this.sendUnsequenced(pong);
  }

  private async dispatch(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case "start":
        return this.start(message.data ?? {});
      case "resume":
        return this.resume(message.data);
      case "stop":
        return this.stop();
      case "config":
        return this.configure(message.data);
      default:
        if (!this.session) return this.reject("not_started", `${message.type} before start: send a start message first`);
        this.withAudioErrors(() => this.session!.handle(message));
    }
  }

  private async start(options: Extract<ClientMessage, { type: "start" }>["data"] & object): Promise<void> {
    if (this.session) return this.reject("already_started", "this connection already has a session");
    if (this.options.pathUserId && options.user_id && options.user_id !== this.options.pathUserId) {
      return this.reject("invalid_message", "start: data.user_id differs from the user in the URL");
    }
    const { principal } = this.options;
    const userId = actingUser(principal, options.user_id ?? this.options.pathUserId);
    if (!userId) return this.reject("forbidden", `start: this connection's credential is for user ${principal.userId}, not ${options.user_id}`);
    const bound = principal.conversationId;
    if (bound !== undefined && options.conversation_id !== undefined && options.conversation_id !== bound) {
      return this.reject("forbidden", `start: this token is bound to conversation ${bound}`);
    }
    try {
      const session = await this.sessions.start({ ...options, user_id: userId, conversation_id: bound ?? options.conversation_id, key_id: principal.keyId });
      if (this.closed) {
        // The client left while the session was being created: nobody can resume it, so it ends now.
        await this.sessions.end(session, "completed");
        return;
      }
      this.bind(session, false);
    } catch (error) {
      if (error instanceof SessionError) return this.reject(error.code === "rate_limited" ? "rate_limited" : "invalid_message", `start: ${error.message}`);
      throw error;
    }
  }

  private async configure(patch: Extract<ClientMessage, { type: "config" }>["data"]): Promise<void> {
    if (!this.session) return this.reject("not_started", "config before start: send a start message first");
    try {
      await this.sessions.configure(this.session, patch);
    } catch (error) {
      if (error instanceof SessionError) return this.reject("invalid_message", `config: ${error.message}`);
      throw error;
    }
  }

  private async resume(request: Extract<ClientMessage, { type: "resume" }>["data"]): Promise<void> {
    if (this.session) return this.reject("already_started", "this connection already has a session");
    try {
      // Another user's session fails exactly like an unknown one (an admin may resume any).
      const owner = hasScope(this.options.principal, "admin") ? undefined : this.options.principal.userId;
      const { session, missed: stored, recovered } = await this.sessions.resume(request.session_id, request.resume_token, request.last_seq, owner);
      // From here on nothing awaits, so no message of the session can slip between replay and attach.
      const missed = session.replaySince(request.last_seq) ?? stored;
      if (this.closed) {
        // The client left while the session was being found: it waits for the next resume, as if just dropped.
        for (const notice of recovered) session.send(notice);
        this.sessions.detach(session, this);
        return;
      }
      for (const json of missed) this.send(json);
      this.bind(session, true);
      // Replies the previous owner could not finish (it died): the client stops waiting for them.
      for (const notice of recovered) session.send(notice);
    } catch (error) {
      if (!(error instanceof SessionError)) throw error;
      this.reject("resume_failed", error.message, false);
      this.close(CLOSE_CODES.resumeFailed, "resume failed");
    }
  }

  private bind(session: VoiceSession, resumed: boolean): void {
    this.session = session;
    this.log = sessionLogger(session.id, this.log);
    const { snapshot, settings } = session;
    const started: OutgoingMessage = {
      type: "session_started",
      data: {
        session_id: snapshot.sessionId,
        conversation_id: snapshot.conversationId,
        resume_token: snapshot.resumeToken,
        resumed,
        input_sample_rate: settings.inputSampleRate,
        output_sample_rate: settings.outputSampleRate,
        audio_format: "pcm_s16le",
      },
    };
    // On resume the caller has replayed the missed messages already; this notice follows them.
    session.attach(this);
    session.send(started);
    this.log.info({ resumed }, "session bound");
  }

  /** Transport: the session cannot go on (its conversation was deleted); the error is sent already. */
  /** Transport: another connection resumed this session (here or on another instance). */
  replaced(): void {
    this.session = undefined;
    this.close(CLOSE_CODES.sessionReplaced, "session resumed by another connection");
  }

  sessionOver(reason: string): void {
    this.generation += 1;
    this.enqueue(() => this.stop(reason), true);
  }

  private async stop(reason = "session ended"): Promise<void> {
    const session = this.session;
    if (!session) return this.close(CLOSE_CODES.normal, "stopped");
    const duration = await this.sessions.end(session, "completed");
    session.send({ type: "session_ended", data: { session_id: session.id, duration } });
    this.session = undefined;
    this.close(CLOSE_CODES.normal, reason.slice(0, 120));
  }

  /** Audio that fails to decode is the client's mistake, reported and survived. */
  private withAudioErrors(action: () => void): void {
    try {
      action();
      this.consecutiveErrors = 0;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.reject("invalid_audio", error.message);
    }
  }

  private reject(code: ErrorCode, message: string, recoverable = true): void {
    // Being over a quota is not an invalid message: it is answered, and the socket stays open.
    if (code !== "rate_limited") this.consecutiveErrors += 1;
    const error: OutgoingMessage = { type: "error", data: { code, message, recoverable } };
    if (this.session) this.session.send(error);
    else this.sendUnsequenced(error);
    if (this.consecutiveErrors > LIMITS.maxConsecutiveErrors) {
      this.close(CLOSE_CODES.policyViolation, `more than ${LIMITS.maxConsecutiveErrors} invalid messages in a row`);
    }
  }

  /** Before a session exists there is no sequence to number in: such messages carry seq 0. */
  private sendUnsequenced(message: OutgoingMessage): void {
    // A session reports its own errors (src/pipeline/session-observer.ts); these have no session.
    if (message.type === "error") this.observers.observe({ type: "error", code: message.data.code });
    if (this.closed) return;
    this.socket.send(JSON.stringify({ type: message.type, seq: 0, data: message.data }));
    this.observers.observe({ type: "message_sent" });
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.log.info({ code, reason }, "closing connection");
    this.closed = true;
    if (this.session) this.sessions.detach(this.session, this);
    this.socket.close(code, reason);
  }
}
