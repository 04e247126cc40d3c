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

export interface ClientSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  ping(): void;
  /** Bytes queued for the client and not yet written. */
  bufferedAmount(): number;
}

export interface ConnectionOptions {
  /** Who opened the socket; the session's user comes from here, never from a message. */
  principal: Principal;
  /** From `/ws/stream/:user_id` (checked against the principal at the upgrade); a `start` may not claim another user. */
  pathUserId?: string;
  idleTimeoutMs: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
}

export class ClientConnection implements Transport {
  private session?: VoiceSession;
  private consecutiveErrors = 0;
  private lastReceivedAt = Date.now();
  private lastPingAt = Date.now();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: ClientSocket,
    private readonly sessions: SessionManager,
    private readonly options: ConnectionOptions,
    private log: Logger,
    private readonly observers: Observers,
  ) {}

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
    this.enqueue(() => this.dispatch(parsed.message));
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

  private enqueue(work: () => Promise<void> | void): void {
    this.queue = this.queue.then(work).catch((error) => {
      this.log.error({ err: error }, "message handling failed");
      this.reject("internal", "the server could not handle that message", true);
    });
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
      const session = await this.sessions.start({ ...options, user_id: userId, conversation_id: bound ?? options.conversation_id });
      this.bind(session, false);
    } catch (error) {
      if (error instanceof SessionError) return this.reject("invalid_message", `start: ${error.message}`);
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
      const { session, missed: stored } = await this.sessions.resume(request.session_id, request.resume_token, request.last_seq, owner);
      // From here on nothing awaits, so no message of the session can slip between replay and attach.
      const missed = session.replaySince(request.last_seq) ?? stored;
      for (const json of missed) this.send(json);
      this.bind(session, true);
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

  private async stop(): Promise<void> {
    const session = this.session;
    if (!session) return this.close(CLOSE_CODES.normal, "stopped");
    const duration = await this.sessions.end(session, "completed");
    session.send({ type: "session_ended", data: { session_id: session.id, duration } });
    this.session = undefined;
    this.close(CLOSE_CODES.normal, "session ended");
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
    this.consecutiveErrors += 1;
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
