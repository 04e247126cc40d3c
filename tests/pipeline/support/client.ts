/**
 * A real WebSocket client for Morgan's protocol, for tests and benchmarks: every server message is
 * validated against the protocol module, and waits are bounded so a broken server fails a test
 * instead of hanging it.
 */
import { withTimeout } from "../../../src/api/app";
import { FINAL_CLOSE_CODES, type ClientMessage, ServerMessage } from "../../../src/protocol/messages";

export type Received = ServerMessage;
type OfType<T extends Received["type"]> = Extract<Received, { type: T }>;


export interface TestClientOptions {
  /**
   * After a drain's 1001 or a dropped connection, reconnect through the same URL (a load balancer
   * picks a live instance) and `resume` with the last seq, as the client library does. `received`
   * keeps every message of every socket, duplicates included, so a test can count them.
   */
  resume?: boolean;
  /** Credentials: headers (Bun's WebSocket may set them, as servers do) or subprotocols (as browsers do). */
  headers?: Record<string, string>;
  protocols?: string[];
}

/** A reconnection: the close code that caused it, and when the socket went down (performance.now()). */
export interface Reconnection {
  code: number;
  downAt: number;
}

export class TestClient {
  readonly received: Received[] = [];
  closeEvent?: { code: number; reason: string };
  readonly reconnections: Reconnection[] = [];
  private waiters: (() => void)[] = [];
  private readonly opened: Promise<void>;
  private readonly closedPromise: Promise<{ code: number; reason: string }>;
  private resolveClosed!: (event: { code: number; reason: string }) => void;
  private socket!: WebSocket;
  private closedByUs = false;

  constructor(
    readonly url: string,
    private readonly options: TestClientOptions = {},
  ) {
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.opened = this.open();
  }

  static async connect(url: string, options: TestClientOptions = {}): Promise<TestClient> {
    const client = new TestClient(url, options);
    await client.opened;
    return client;
  }

  /** The subprotocol the server selected. */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** The highest seq received so far. */
  get lastSeq(): number {
    return this.received.reduce((max, m) => Math.max(max, m.seq), 0);
  }

  private open(): Promise<void> {
    const { headers, protocols } = this.options;
    // Bun's WebSocket takes { headers, protocols } in place of the protocol list.
    const socket = headers || protocols ? new WebSocket(this.url, { headers, protocols } as unknown as string[]) : new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    return new Promise((resolve, reject) => {
      socket.addEventListener(
        "open",
        () => {
          this.socket = socket;
          socket.addEventListener("close", (event) => this.onClose(socket, event));
          resolve();
        },
        { once: true },
      );
      socket.addEventListener("error", () => reject(new Error(`could not connect to ${this.url}`)), { once: true });
      socket.addEventListener("message", (event) => {
        const parsed = ServerMessage.safeParse(JSON.parse(String(event.data)));
        if (!parsed.success) throw new Error(`server sent a message outside the protocol: ${String(event.data).slice(0, 300)}\n${parsed.error.message}`);
        this.received.push(parsed.data);
        this.notify();
      });
    });
  }

  private onClose(socket: WebSocket, event: CloseEvent): void {
    if (socket !== this.socket) return;
    const started = this.received.findLast((m): m is OfType<"session_started"> => m.type === "session_started");
    if (this.options.resume && started && !this.closedByUs && !FINAL_CLOSE_CODES.has(event.code)) {
      void this.reconnect(event.code, started);
      return;
    }
    this.closeEvent = { code: event.code, reason: event.reason };
    this.resolveClosed(this.closeEvent);
    this.notify();
  }

  private async reconnect(code: number, started: OfType<"session_started">): Promise<void> {
    this.reconnections.push({ code, downAt: performance.now() });
    for (let attempt = 0; attempt < 200; attempt++) {
      if (attempt > 0) await Bun.sleep(50);
      try {
        await this.open();
      } catch {
        continue;
      }
      const { session_id, resume_token } = started.data;
      this.socket.send(JSON.stringify({ type: "resume", data: { session_id, resume_token, last_seq: this.lastSeq } }));
      return;
    }
    this.closeEvent = { code, reason: "could not reconnect" };
    this.resolveClosed(this.closeEvent);
    this.notify();
  }

  /** Sends any JSON: tests send invalid messages on purpose, so this is not narrowed to ClientMessage. */
  send(message: ClientMessage | { type: string; data?: unknown }): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  close(code = 1000): void {
    this.closedByUs = true;
    this.socket.close(code);
  }

  closed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closedPromise, timeoutMs, "the socket to close");
  }

  all<T extends Received["type"]>(type: T): OfType<T>[] {
    return this.received.filter((m): m is OfType<T> => m.type === type);
  }

  /** Waits for the first message (after `from`) of `type` that satisfies `predicate`. */
  async next<T extends Received["type"]>(
    type: T,
    options: { timeoutMs?: number; from?: number; where?: (m: OfType<T>) => boolean } = {},
  ): Promise<OfType<T>> {
    const { timeoutMs = 20_000, from = 0, where = () => true } = options;
    const find = () =>
      this.received.slice(from).find((m): m is OfType<T> => m.type === type && where(m as OfType<T>));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (this.closeEvent) throw new Error(`socket closed (${this.closeEvent.code} ${this.closeEvent.reason}) while waiting for ${type}; got ${this.summary()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${timeoutMs} ms; got ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  summary(): string {
    return this.received.map((m) => (m.type === "error" ? `error(${m.data.code}: ${m.data.message})` : m.type)).join(", ") || "nothing";
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Sends chunks paced in real time, as a microphone would. */
export async function streamAudio(client: TestClient, chunks: Uint8Array[], chunkMs = 20, binary = false): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    if (binary) client.sendRaw(chunk);
    else client.send({ type: "audio", data: { audio_data: Buffer.from(chunk).toString("base64") } });
    const due = start + (i + 1) * chunkMs;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  }
}
