/**
 * MorganClient: one voice session over Morgan's WebSocket protocol (docs/protocol.md), typed by the
 * server's own zod schemas (src/protocol). It validates every message it sends and receives, keeps
 * the last `seq`, and when the connection drops it reconnects with back-off and `resume`s, so the
 * application sees every server message exactly once and in order.
 *
 * It holds no audio code: microphone and playback (microphone.ts, playback.ts) plug in from outside.
 */
import {
  CLOSE_CODES,
  FINAL_CLOSE_CODES,
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  ClientMessage,
  describeIssues,
  ServerMessage,
  type ServerMessageType,
} from "../../../src/protocol/messages";
import { backoffDelay } from "./backoff";
import { Emitter } from "./emitter";

export type StartSettings = NonNullable<Extract<ClientMessage, { type: "start" }>["data"]>;
export type ConfigSettings = Extract<ClientMessage, { type: "config" }>["data"];
export type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;
export type SessionStarted = MessageOf<"session_started">;

/**
 * idle → connecting → open → starting → connected ⇄ reconnecting → closed.
 * `connected` means a session is bound; `reconnecting` means the socket dropped and resume is under way.
 */
export type ConnectionState = "idle" | "connecting" | "open" | "starting" | "connected" | "reconnecting" | "closed";

export type ClientEvents = { [K in ServerMessageType]: MessageOf<K> } & {
  /** Every server message, once, in `seq` order (after the typed event of its own type). */
  message: ServerMessage;
  state: { state: ConnectionState; reason?: string };
  /** A frame that is not valid JSON or not in the protocol: dropped, reported here. */
  invalid: { raw: string; problem: string };
};

/** What the client needs of a WebSocket: the browser's and Bun's both fit; tests pass fakes. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

/** A short-lived credential, fetched again for every (re)connection so an expired one is replaced. */
export type TokenSource = string | (() => string | Promise<string>);

export interface MorganClientOptions {
  /** The WebSocket endpoint, e.g. `ws://localhost:8000/ws/stream`. */
  url: string;
  /** Sent as a WebSocket subprotocol (browsers cannot set headers); omit when the server needs none. */
  token?: TokenSource;
  socket?: SocketFactory;
  reconnect?: {
    initialDelayMs?: number;
    maxDelayMs?: number;
    /** Stop trying after this long (the server keeps a dropped session for pipeline.resumeWindowS, 60 s by default). */
    giveUpAfterMs?: number;
    random?: () => number;
  };
}

/** The subprotocols that carry a browser's token (docs/security.md), from the protocol module. */
export { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX };


const OPEN = 1;

export interface ClientStats {
  /** Messages received again after a resume and dropped (already delivered). */
  duplicatesDropped: number;
  /** Times a `seq` arrived with numbers missing before it (should stay 0; the jump at a resume on another instance is not one). */
  gaps: number;
  /** Successful resumes after a dropped connection. */
  resumes: number;
  /** Microphone chunks dropped because no socket was open. */
  audioDropped: number;
}

export class MorganClient extends Emitter<ClientEvents> {
  state: ConnectionState = "idle";
  session?: SessionStarted["data"];
  /** The highest `seq` delivered; sent in `resume`. */
  lastSeq = 0;
  readonly stats: ClientStats = { duplicatesDropped: 0, gaps: 0, resumes: 0, audioDropped: 0 };
  #socket?: SocketLike;
  #closing = false;
  /** Control messages sent while reconnecting, flushed once the session is bound again. */
  #pending: ClientMessage[] = [];
  /** The server said `going_away`: when its socket closes, resume at once (the balancer picks another instance). */
  #movingOn = false;
  readonly #options: MorganClientOptions;

  constructor(options: MorganClientOptions) {
    super();
    this.#options = options;
  }

  /** Opens the socket. Rejects when it cannot be opened. */
  async connect(): Promise<void> {
    if (this.#socket && this.#socket.readyState === OPEN) return;
    this.#closing = false;
    this.#setState("connecting");
    try {
      await this.#open();
    } catch (error) {
      this.#setState("closed", (error as Error).message);
      throw error;
    }
    this.#setState("open");
  }

  /** Starts a session (connecting first if needed); resolves with `session_started`. */
  async start(settings: StartSettings = {}): Promise<SessionStarted> {
    if (this.session) throw new Error("a session is already started on this client");
    if (this.state !== "open") await this.connect();
    this.#setState("starting");
    const outcome = this.#bound();
    this.#transmit({ type: "start", data: settings });
    const started = await outcome;
    this.#setState("connected");
    return started;
  }

  /** Sends a protocol message; checked against the protocol first, so a mistake throws here, not at the server. */
  send(message: ClientMessage): void {
    const checked = this.#check(message);
    const open = this.#socket?.readyState === OPEN;
    if (this.session && (this.state === "reconnecting" || !open)) {
      if (checked.type !== "audio") this.#pending.push(checked);
      else this.stats.audioDropped += 1;
      return;
    }
    this.#transmit(checked);
  }

  /** 16-bit little-endian PCM at the session's input rate, as a binary frame. Dropped (and counted) while no socket is open. */
  sendAudio(pcm: Uint8Array): void {
    const socket = this.#socket;
    if (!this.session || !socket || socket.readyState !== OPEN || this.state !== "connected") {
      this.stats.audioDropped += 1;
      return;
    }
    socket.send(pcm);
  }

  text(text: string): void {
    this.send({ type: "text", data: { text } });
  }

  config(settings: ConfigSettings): void {
    this.send({ type: "config", data: settings });
  }

  /** Ends the session; resolves once the server has confirmed and closed (without a live connection, just closes). */
  async stop(): Promise<void> {
    if (!this.session || this.state !== "connected") return this.close();
    this.#closing = true;
    const ended = this.once("state", (s) => s.state === "closed");
    this.#transmit({ type: "stop" });
    await ended;
  }

  /** Closes the socket without ending the session (it stays resumable on the server for a while). */
  close(): void {
    this.#closing = true;
    this.#socket?.close(CLOSE_CODES.normal, "client closed");
    this.#setState("closed", "closed by the client");
  }

  #check(message: ClientMessage): ClientMessage {
    const parsed = ClientMessage.safeParse(message);
    if (!parsed.success) throw new TypeError(describeIssues(message.type, parsed.error));
    return parsed.data;
  }

  #transmit(message: ClientMessage): void {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) throw new Error(`cannot send ${message.type}: not connected (${this.state})`);
    socket.send(JSON.stringify(message));
  }

  async #protocols(): Promise<string[]> {
    const token = this.#options.token;
    if (token === undefined) return [];
    const value = typeof token === "function" ? await token() : token;
    return [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${value}`];
  }

  /** Opens a socket and wires it; resolves on open, rejects if it closes or fails first. */
  async #open(): Promise<void> {
    const protocols = await this.#protocols();
    const factory = this.#options.socket ?? ((url, p) => new WebSocket(url, p) as unknown as SocketLike);
    const socket = factory(this.#options.url, protocols);
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`could not connect to ${this.#options.url}`));
      socket.onclose = (event) => reject(new Error(`connection closed before it opened (${event.code})`));
    });
    socket.onerror = null;
    socket.onmessage = (event) => this.#receive(String(event.data));
    socket.onclose = (event) => this.#onClose(socket, event);
  }

  #receive(raw: string): void {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return this.emit("invalid", { raw, problem: "not valid JSON" });
    }
    const parsed = ServerMessage.safeParse(json);
    if (!parsed.success) return this.emit("invalid", { raw, problem: describeIssues("server message", parsed.error) });
    const message = parsed.data;
    if (message.seq > 0) {
      if (message.seq <= this.lastSeq) {
        this.stats.duplicatesDropped += 1;
        return;
      }
      // A session taken over by another instance continues above the numbers its old owner reserved:
      // the resumed notice may jump ahead; any other jump means messages are missing.
      const moved = message.type === "session_started" && message.data.resumed;
      if (this.lastSeq > 0 && message.seq > this.lastSeq + 1 && !moved) this.stats.gaps += 1;
      this.lastSeq = message.seq;
    }
    if (message.type === "session_started") this.session = message.data;
    if (message.type === "session_ended") this.#closing = true;
    if (message.type === "going_away") this.#movingOn = true;
    (this.emit as (type: string, value: ServerMessage) => void)(message.type, message);
    this.emit("message", message);
  }

  /** Resolves on the next `session_started`; rejects if the socket closes or the server refuses first. */
  #bound(): Promise<SessionStarted> {
    return new Promise((resolve, reject) => {
      const offs = [
        this.on("session_started", (m) => {
          offs.forEach((off) => off());
          resolve(m);
        }),
        // Before a session exists the server's errors carry seq 0: any of them refuses this start.
        this.on("error", (m) => {
          if (m.seq !== 0 && m.data.recoverable) return;
          offs.forEach((off) => off());
          reject(new Error(`${m.data.code}: ${m.data.message}`));
        }),
        this.on("state", (s) => {
          if (s.state !== "closed" && s.state !== "reconnecting") return;
          offs.forEach((off) => off());
          reject(new Error(s.reason ?? "connection closed"));
        }),
      ];
    });
  }

  #onClose(socket: SocketLike, event: CloseEvent): void {
    if (socket !== this.#socket) return;
    const reason = `closed ${event.code}${event.reason ? `: ${event.reason}` : ""}`;
    if (this.#closing || !this.session || FINAL_CLOSE_CODES.has(event.code)) {
      this.#setState("closed", reason);
      return;
    }
    void this.#resume(reason);
  }

  /** Reconnects with back-off and `resume` until bound again, refused, or out of time. */
  async #resume(reason: string): Promise<void> {
    const { initialDelayMs = 250, maxDelayMs = 5000, giveUpAfterMs = 60_000, random } = this.#options.reconnect ?? {};
    const session = this.session!;
    const began = Date.now();
    // A drained server closed on purpose and nothing is wrong elsewhere: the first attempt need not wait.
    const planned = this.#movingOn;
    this.#movingOn = false;
    this.#setState("reconnecting", reason);
    for (let attempt = 0; !this.#closing; attempt++) {
      const delay = planned && attempt === 0 ? 0 : backoffDelay(attempt, { initialMs: initialDelayMs, maxMs: maxDelayMs, random });
      await new Promise((r) => setTimeout(r, delay));
      if (this.#closing) return;
      if (Date.now() - began > giveUpAfterMs) {
        this.#setState("closed", `could not resume within ${Math.round(giveUpAfterMs / 1000)} s`);
        return;
      }
      try {
        await this.#open();
      } catch {
        continue;
      }
      const socket = this.#socket!;
      const outcome = this.#resumeOutcome(socket);
      socket.send(JSON.stringify({ type: "resume", data: { session_id: session.session_id, resume_token: session.resume_token, last_seq: this.lastSeq } }));
      const result = await outcome;
      if (result === "bound") {
        this.stats.resumes += 1;
        this.#setState("connected");
        const pending = this.#pending;
        this.#pending = [];
        for (const message of pending) this.#transmit(message);
        return;
      }
      if (result === CLOSE_CODES.resumeFailed) {
        this.#setState("closed", "the server no longer has this session (resume refused)");
        return;
      }
    }
  }

  /** "bound" once the resumed `session_started` arrives, else the close code of this socket. */
  #resumeOutcome(socket: SocketLike): Promise<"bound" | number> {
    return new Promise((resolve) => {
      const off = this.on("session_started", (m) => {
        if (!m.data.resumed) return;
        off();
        resolve("bound");
      });
      socket.onclose = (event) => {
        off();
        resolve(event.code);
      };
    }).then((result) => {
      socket.onclose = (event) => this.#onClose(socket, event);
      return result as "bound" | number;
    });
  }

  #setState(state: ConnectionState, reason?: string): void {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", { state, reason });
  }
}
