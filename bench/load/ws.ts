/**
 * A lean WebSocket client for load generation: it stamps each server message with its arrival time
 * and only JSON-parses it (the tests' TestClient also validates every message with zod, which at
 * thousands of messages a second would make the load generator, not the server, the bottleneck).
 */
export interface Arrival {
  at: number;
  message: { type: string; seq: number; data: Record<string, unknown> };
}

export class LoadSocket {
  private listeners: ((arrival: Arrival) => void)[] = [];
  private closeListeners: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const at = performance.now();
      const message = JSON.parse(String(event.data)) as Arrival["message"];
      for (const listener of this.listeners) listener({ at, message });
    });
    socket.addEventListener("close", () => {
      this.closed = true;
      for (const listener of this.closeListeners) listener();
    });
  }

  /** `protocols` carries a credential as browsers send it (morgan.v1, morgan.token.<token>). */
  static connect(url: string, timeoutMs = 20_000, protocols?: string[]): Promise<LoadSocket> {
    return new Promise((resolve, reject) => {
      const socket = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(new LoadSocket(socket));
      }, { once: true });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error(`could not connect to ${url}`));
      }, { once: true });
    });
  }

  onMessage(listener: (arrival: Arrival) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  send(message: { type: string; data?: unknown }): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string): void {
    this.socket.send(data);
  }

  /** Resolves with the first message matching `match`, rejects on close or after `timeoutMs`. */
  waitFor(match: (message: Arrival["message"]) => boolean, timeoutMs: number): Promise<Arrival> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("socket closed"));
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onMessage((arrival) => {
        if (arrival.message.type === "error" && !match(arrival.message)) {
          clearTimeout(timer);
          off();
          reject(new Error(`server error: ${JSON.stringify(arrival.message.data)}`));
        } else if (match(arrival.message)) {
          clearTimeout(timer);
          off();
          resolve(arrival);
        }
      });
      this.onClose(() => {
        clearTimeout(timer);
        off();
        reject(new Error("socket closed"));
      });
    });
  }

  /** Opens a session with `settings`; resolves once session_started arrives. */
  async start(settings: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<Arrival> {
    const started = this.waitFor((m) => m.type === "session_started", timeoutMs);
    this.send({ type: "start", data: settings });
    return started;
  }

  /** Ends the session (stop interrupts a reply still being spoken) and waits for the close. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.onClose(resolve));
    this.send({ type: "stop" });
    const timer = setTimeout(() => this.socket.close(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  close(): void {
    this.socket.close();
  }
}
