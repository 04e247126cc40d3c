/**
 * A stand-in WebSocket for the client's unit tests: the test plays the server, and can drop the
 * connection at any moment (the real-server tests in tests/web and tests/client cover the same paths
 * over real sockets).
 */
import type { ServerMessage } from "../../../../src/protocol/messages";
import type { SocketFactory, SocketLike } from "../client";

export class FakeSocket implements SocketLike {
  binaryType = "blob";
  readyState = 0;
  readonly sent: (string | ArrayBufferView | ArrayBuffer)[] = [];
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  send(data: string | ArrayBufferView | ArrayBuffer): void {
    if (this.readyState !== 1) throw new Error("fake socket: send while not open");
    this.sent.push(data);
  }

  close(code = 1000, reason = ""): void {
    this.drop(code, reason);
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  /** The server refuses the connection. */
  fail(): void {
    this.readyState = 3;
    this.onerror?.(new Event("error"));
  }

  deliver(message: ServerMessage | string): void {
    const data = typeof message === "string" ? message : JSON.stringify(message);
    this.onmessage?.(new MessageEvent("message", { data }));
  }

  drop(code = 1006, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }

  /** The JSON messages sent so far, parsed. */
  messages(): { type: string; data?: Record<string, unknown> }[] {
    return this.sent.filter((d): d is string => typeof d === "string").map((d) => JSON.parse(d));
  }
}

/** Hands out FakeSockets and lets the test act on each as it is made. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  onConnect: (socket: FakeSocket) => void = (socket) => queueMicrotask(() => socket.open());

  readonly factory: SocketFactory = (url, protocols) => {
    const socket = new FakeSocket(url, protocols);
    this.sockets.push(socket);
    this.onConnect(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }
}

export const SESSION_ID = "3f8a3b1e-9a63-4d55-9d3e-3e5c2b0a7f10";
export const CONVERSATION_ID = "7d1f1c2a-2b4c-4a3e-8f6d-5e4b3a2c1d0e";
export const TURN_ID = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e";

export function sessionStarted(seq: number, resumed = false): ServerMessage {
  return {
    type: "session_started",
    seq,
    data: {
      session_id: SESSION_ID,
      conversation_id: CONVERSATION_ID,
      resume_token: "r".repeat(32),
      resumed,
      input_sample_rate: 16000,
      output_sample_rate: 16000,
      audio_format: "pcm_s16le",
    },
  };
}

export function textDelta(seq: number, text: string, turnId = TURN_ID): ServerMessage {
  return { type: "response_text", seq, data: { turn_id: turnId, text, is_final: false } };
}

export async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}
