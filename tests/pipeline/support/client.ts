/**
 * A real WebSocket client for Morgan's protocol, for tests and benchmarks: every server message is
 * validated against the protocol module, and waits are bounded so a broken server fails a test
 * instead of hanging it.
 */
import { withTimeout } from "../../../src/api/app";
import { type ClientMessage, ServerMessage } from "../../../src/protocol/messages";

export type Received = ServerMessage;
type OfType<T extends Received["type"]> = Extract<Received, { type: T }>;

export class TestClient {
  readonly received: Received[] = [];
  closeEvent?: { code: number; reason: string };
  /** The subprotocol the server selected. */
  get protocol(): string {
    return this.socket.protocol;
  }
  private waiters: (() => void)[] = [];
  private readonly opened: Promise<void>;
  private readonly closedPromise: Promise<{ code: number; reason: string }>;

  constructor(readonly url: string, private readonly socket = new WebSocket(url)) {
    socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)), { once: true });
    });
    this.closedPromise = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        this.closeEvent = { code: event.code, reason: event.reason };
        resolve(this.closeEvent);
        this.notify();
      });
    });
    socket.addEventListener("message", (event) => {
      const parsed = ServerMessage.safeParse(JSON.parse(String(event.data)));
      if (!parsed.success) throw new Error(`server sent a message outside the protocol: ${String(event.data).slice(0, 300)}\n${parsed.error.message}`);
      this.received.push(parsed.data);
      this.notify();
    });
  }

  /** `init` carries credentials: headers (Bun's WebSocket may set them) or subprotocols (as browsers do). */
  static async connect(url: string, init?: { headers?: Record<string, string>; protocols?: string[] }): Promise<TestClient> {
    const client = init ? new TestClient(url, new WebSocket(url, init as unknown as string[])) : new TestClient(url);
    await client.opened;
    return client;
  }

  /** Sends any JSON: tests send invalid messages on purpose, so this is not narrowed to ClientMessage. */
  send(message: ClientMessage | { type: string; data?: unknown }): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  close(code = 1000): void {
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
