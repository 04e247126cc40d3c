/**
 * A client session that survives its gateway: on `going_away`, a closed socket or a failed turn it
 * reconnects through the load balancer and `resume`s with the last `seq` it received, then carries on
 * with its turns. It keeps every server message with its arrival time, for the fault test's checks
 * (nothing lost, nothing twice) and its disruption figures. Messages are read loosely (type, seq, data)
 * so that a message type newer than this client (e.g. a drain's `going_away`) is recorded, not fatal.
 */
export interface Arrival {
  type: string;
  seq: number;
  data: Record<string, any>;
  at: number;
  /** Which connection of this session delivered it (0 = the first). */
  connection: number;
}

export interface TurnRecord {
  index: number;
  text: string;
  kind: "text" | "voice";
  attempts: number;
  /** The turn_id of the reply the client received in full (response_complete), if any. */
  completedTurnId?: string;
  completedText?: string;
  /** turn_ids of every reply the client saw start: their user messages were stored before the reply began. */
  startedTurnIds: string[];
  /** Why earlier attempts did not complete (error codes, closes, timeouts), with when they happened. */
  failures: { at: number; why: string }[];
  startedAt: number;
  completedAt?: number;
}

interface Waiter {
  match: (message: Arrival) => boolean;
  resolve: (message: Arrival) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ResilientSession {
  readonly arrivals: Arrival[] = [];
  readonly turns: TurnRecord[] = [];
  /** When each connection after the first was opened, and why. */
  readonly reconnects: { at: number; reason: string }[] = [];
  /** Server messages received with a seq this session had already received. */
  duplicates = 0;
  sessionId = "";
  conversationId = "";
  resumeFailures: string[] = [];
  #resumeToken = "";
  #socket: WebSocket | null = null;
  #connection = -1;
  #lastSeq = 0;
  #seen = new Set<number>();
  #waiters: Waiter[] = [];
  #goingAway = false;
  /** A turn is waiting for its reply: the turn loop handles a lost connection itself. */
  #turnInFlight = false;
  /** The resume under way, if any: one at a time, whoever notices the loss first. */
  #resuming: Promise<void> | null = null;
  #closing = false;

  constructor(
    readonly url: string,
    readonly name: string,
  ) {}

  /** Opens the first connection and starts the session. */
  async start(): Promise<void> {
    await this.#connect();
    this.send({ type: "start", data: { language: "en" } });
    const started = await this.#expect((m) => m.type === "session_started", 20_000, "session_started");
    this.sessionId = started.data.session_id;
    this.conversationId = started.data.conversation_id;
    this.#resumeToken = started.data.resume_token;
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN && !this.#goingAway;
  }

  send(message: unknown): void {
    this.#socket?.send(JSON.stringify(message));
  }

  /**
   * One turn, to completion: sent again (marked as a retry) when its reply fails or its connection
   * goes before the reply completed and the resume does not replay the completion.
   */
  async turn(index: number, kind: "text" | "voice", sendTurn: (text: string) => Promise<void>): Promise<TurnRecord> {
    const record: TurnRecord = { index, text: `${this.name} turn ${index}`, kind, attempts: 0, startedTurnIds: [], failures: [], startedAt: performance.now() };
    this.turns.push(record);
    const deadline = Date.now() + 120_000;
    while (!record.completedTurnId) {
      if (Date.now() > deadline) throw new Error(`${this.name}: turn ${index} did not complete within 120 s (${record.attempts} attempts)`);
      if (!this.connected) await this.#resume("disconnected before a turn");
      record.attempts++;
      this.#turnInFlight = true;
      const from = this.arrivals.length;
      const text = record.attempts === 1 ? record.text : `${record.text} (retry ${record.attempts - 1})`;
      try {
        await sendTurn(text);
      } catch {
        continue; // the socket went while sending: resume and send again
      }
      const outcome = await this.#expect(
        (m) => m.arrivalIndex >= from && (m.type === "response_complete" || m.type === "error" || m.type === "interrupted" || m.type === "#closed"),
        60_000,
        `the reply to ${text}`,
        from,
      ).catch((error: Error) => ({ type: "#timeout", seq: 0, data: { message: error.message }, at: 0, connection: 0 }) as Arrival);
      this.#turnInFlight = false;
      this.#noteStartedTurns(record, from);
      if (outcome.type === "response_complete") {
        record.completedTurnId = outcome.data.turn_id;
        record.completedText = outcome.data.text;
        record.completedAt = outcome.at;
        break;
      }
      record.failures.push({ at: performance.now(), why: outcome.type === "error" ? `error ${outcome.data.code}: ${outcome.data.message}` : outcome.type === "#closed" ? outcome.data.reason : outcome.type === "#timeout" ? "no reply within 60 s" : outcome.type });
      if (outcome.type === "#closed") {
        // The resume replays what this session missed: the reply may have completed meanwhile.
        await this.#resume(outcome.data.reason);
        // Replayed messages come before the resumed session_started: a completion is here already or lost.
        const replayed = this.arrivals.slice(from).find((m) => m.type === "response_complete") ?? null;
        this.#noteStartedTurns(record, from);
        if (replayed) {
          record.completedTurnId = replayed.data.turn_id;
          record.completedText = replayed.data.text;
          record.completedAt = replayed.at;
        }
        continue;
      }
      // An error (e.g. its Triton died mid-reply) or an interruption: the turn is tried again.
      await sleep(300);
    }
    if (this.#goingAway) await this.#resume("going_away");
    return record;
  }

  close(): void {
    this.#closing = true;
    this.#socket?.close(1000);
  }

  #noteStartedTurns(record: TurnRecord, from: number): void {
    for (const message of this.arrivals.slice(from)) {
      const turnId = message.data?.turn_id;
      if (message.type === "response_text" && typeof turnId === "string" && !record.startedTurnIds.includes(turnId)) record.startedTurnIds.push(turnId);
    }
  }

  async #connect(): Promise<void> {
    const socket = new WebSocket(this.url);
    const connection = ++this.#connection;
    this.#goingAway = false;
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`${this.name}: could not connect to ${this.url}`)), { once: true });
    });
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      const raw = JSON.parse(String(event.data)) as { type: string; seq: number; data: Record<string, any> };
      if (raw.seq > 0) {
        if (this.#seen.has(raw.seq)) this.duplicates++;
        this.#seen.add(raw.seq);
        this.#lastSeq = Math.max(this.#lastSeq, raw.seq);
      }
      if (raw.type === "going_away") this.#goingAway = true;
      this.#arrive({ ...raw, at: performance.now(), connection });
      // Between turns, move at once (nothing to finish here); during one, after its reply.
      if (raw.type === "going_away" && !this.#turnInFlight) void this.#resume("going_away").catch(() => {});
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return;
      const reason = `closed ${event.code}`;
      this.#arrive({ type: "#closed", seq: 0, data: { reason }, at: performance.now(), connection });
      if (!this.#turnInFlight && !this.#closing) void this.#resume(reason).catch(() => {});
    });
  }

  /** Reconnects through the load balancer and resumes, retrying while no gateway takes it. */
  #resume(reason: string): Promise<void> {
    this.#resuming ??= this.#reconnect(reason).finally(() => {
      this.#resuming = null;
    });
    return this.#resuming;
  }

  async #reconnect(reason: string): Promise<void> {
    const old = this.#socket;
    this.#socket = null;
    old?.close(1000);
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > deadline) throw new Error(`${this.name}: could not resume within 30 s (${reason})`);
      try {
        await this.#connect();
        this.reconnects.push({ at: performance.now(), reason });
        this.send({ type: "resume", data: { session_id: this.sessionId, resume_token: this.#resumeToken, last_seq: this.#lastSeq } });
        const from = this.arrivals.length;
        const answer = await this.#expect(
          (m) => m.arrivalIndex >= from && (m.type === "session_started" || m.type === "error" || m.type === "#closed"),
          15_000,
          "the resumed session_started",
          from,
        );
        if (answer.type === "session_started") {
          this.#resumeToken = answer.data.resume_token ?? this.#resumeToken;
          return;
        }
        if (answer.type === "error") this.resumeFailures.push(`${answer.data.code}: ${answer.data.message}`);
      } catch {
        // no gateway answered yet: try again
      }
      await sleep(Math.min(100 * (attempt + 1), 500));
    }
  }

  #arrive(message: Arrival): void {
    const indexed = Object.assign(message, { arrivalIndex: this.arrivals.length });
    this.arrivals.push(indexed);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (waiter.match(indexed)) waiter.resolve(indexed);
      else this.#waiters.push(waiter);
    }
  }

  /** The first arrival (from index `from`) that matches, waiting up to `timeoutMs`. */
  #expect(match: (m: Arrival & { arrivalIndex: number }) => boolean, timeoutMs: number, what: string, from = 0): Promise<Arrival> {
    const arrived = this.arrivals.slice(from).find((m) => match(m as Arrival & { arrivalIndex: number }));
    if (arrived) return Promise.resolve(arrived);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        match: (m) => match(m as Arrival & { arrivalIndex: number }),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.#waiters.push(waiter);
    });
  }
}
