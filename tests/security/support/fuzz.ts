/**
 * A WebSocket fuzzer for Morgan's protocol, shared by the CI-sized test (tests/security/fuzz.test.ts)
 * and the 100,000-frame bench (bench/scenarios/fuzz.ts). Every frame it sends has a known answer,
 * worked out with the protocol's own parser, so "every frame is answered" is checked exactly:
 *
 * - in a session: every field of every client message (the fields come from the zod schemas) set
 *   to each value of WRONG_VALUES in turn, then random text (invalid JSON), odd-length binary audio
 *   and random wrong-typed fields → one `error` each; pings → one `pong`; a valid `playback` now and then resets the server's count of
 *   consecutive invalid messages, so the session is not closed as abusive;
 * - before start (a fresh connection per batch of up to 20): random text and binary → `error` (seq 0);
 * - forged resumes (a well-formed, unknown session and token) → `resume_failed`, then close 4002;
 * - oversize frames → close 1009.
 */
import { z } from "zod";
import { CLOSE_CODES, ClientMessage, LIMITS, parseClientMessage } from "../../../src/protocol/messages";

/** A deterministic generator (mulberry32), so a failing run can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[] };

/** Every field path under `data` of one client message type, nested objects included ("vad.threshold"). */
export function fieldPaths(type: string): string[] {
  const option = ClientMessage.options.find((o) => o.shape.type.value === type)!;
  const schema = z.toJSONSchema(option, { unrepresentable: "any", io: "input" }) as JsonSchema;
  const paths: string[] = [];
  const walk = (node: JsonSchema | undefined, prefix: string) => {
    const object = node?.properties ? node : node?.anyOf?.find((n) => n.properties);
    for (const [name, child] of Object.entries(object?.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      paths.push(path);
      walk(child, path);
    }
  };
  walk(schema.properties?.data, "");
  return paths;
}

/** Values of every JSON type, and a few that parsers trip over. */
const WRONG_VALUES: unknown[] = [null, true, 0, -1, 1.5, 1e308, "", "x", "\u0000", "\ud800", [], [1], {}, { __proto__: { admin: true } }, "9".repeat(400)];

export const CLIENT_TYPES = ClientMessage.options.map((o) => o.shape.type.value as string);

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

export interface Frame {
  payload: string | Uint8Array;
  /** What must come back: one error, one pong, or nothing (a valid message with no reply). */
  expect: "error" | "pong" | "none";
  what: string;
}

/** Frames for an open session, each with its known answer. */
export function sessionFrames(rand: () => number): () => Frame {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const fields = new Map(CLIENT_TYPES.map((type) => [type, fieldPaths(type)]));
  const randomText = (max: number) => {
    const length = Math.floor(rand() * max);
    let text = "";
    for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(rand() * (rand() < 0.8 ? 128 : 0xffff)));
    return text;
  };
  const classify = (payload: string, what: string): Frame => {
    const parsed = parseClientMessage(payload);
    if (!parsed.ok) return { payload, expect: "error", what };
    // A valid message: only those with a known answer are sent (a valid text would start a turn).
    switch (parsed.message.type) {
      case "ping":
        return { payload, expect: "pong", what };
      case "start":
      case "resume":
        return { payload, expect: "error", what: `${what} (already_started)` };
      case "playback":
        return { payload, expect: "none", what };
      default:
        return { payload: JSON.stringify({ type: "ping" }), expect: "pong", what: "ping (instead of a valid message)" };
    }
  };
  // First every field of every message with every wrong value, in order; then at random.
  const sweep = CLIENT_TYPES.flatMap((type) =>
    fields.get(type)!.flatMap((path) =>
      WRONG_VALUES.map((value) => {
        const message: Record<string, unknown> = { type, data: {} };
        setPath(message.data as Record<string, unknown>, path, value);
        return JSON.stringify(message);
      }),
    ),
  );
  let swept = 0;
  return () => {
    if (swept < sweep.length) return classify(sweep[swept++]!, "a wrong-typed field (sweep)");
    const roll = rand();
    if (roll < 0.15) return classify(randomText(600), "random text");
    if (roll < 0.25) {
      // Binary audio of an odd length can never decode: always an error, never a turn.
      const bytes = new Uint8Array(1 + 2 * Math.floor(rand() * 400));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      return { payload: bytes, expect: "error", what: "odd-length binary audio" };
    }
    if (roll < 0.3) return { payload: JSON.stringify({ type: "ping", data: { timestamp: Math.floor(rand() * 1e12) } }), expect: "pong", what: "ping" };
    if (roll < 0.35) {
      const junk = pick(["{", "[]", "null", "1", '"type"', '{"type":null}', '{"type":"text"', '{"type":"text","data":[]}', "[".repeat(5000)]);
      return classify(junk, "malformed JSON");
    }
    if (roll < 0.4) return classify(JSON.stringify({ type: randomText(40) || "?", data: {} }), "unknown type");
    // Wrong types for one field of one message: the fields come from the message's zod schema.
    const type = pick(CLIENT_TYPES);
    const paths = fields.get(type)!;
    const message: Record<string, unknown> = { type, data: {} };
    if (paths.length === 0 || rand() < 0.1) message.data = pick(WRONG_VALUES);
    else setPath(message.data as Record<string, unknown>, pick(paths), pick(WRONG_VALUES));
    if (rand() < 0.05) message.extra = pick(WRONG_VALUES);
    return classify(JSON.stringify(message), `${type} with a wrong-typed field`);
  };
}

/** A resume of a session that does not exist, well-formed enough to reach the token check. */
export function forgedResume(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join("");
  const sessionId = `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
  return JSON.stringify({ type: "resume", data: { session_id: sessionId, resume_token: hex(32), last_seq: Math.floor(rand() * 1000) } });
}

interface Received {
  type: string;
  seq: number;
  data: { code?: string };
}

/** A bare WebSocket that counts what comes back; the fuzzer's frames are not protocol messages, so TestClient's checks do not apply. */
class Socket {
  readonly received: Received[] = [];
  outsideProtocol = 0;
  closeCode?: number;
  private waiters: (() => void)[] = [];
  private readonly ws: WebSocket;
  readonly opened: Promise<boolean>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve) => {
      this.ws.addEventListener("open", () => resolve(true), { once: true });
      this.ws.addEventListener("error", () => resolve(false), { once: true });
    });
    this.ws.addEventListener("message", (event) => {
      try {
        this.received.push(JSON.parse(String(event.data)) as Received);
      } catch {
        this.outsideProtocol += 1;
      }
      this.wake();
    });
    this.ws.addEventListener("close", (event) => {
      this.closeCode = event.code;
      this.wake();
    });
  }

  send(payload: string | Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(payload);
  }

  count(type: string): number {
    return this.received.filter((m) => m.type === type).length;
  }

  /** Waits until `done()` or the socket closes or `timeoutMs` passes; true when done. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.closeCode !== undefined || Date.now() > deadline) return done();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export interface FuzzStats {
  frames: number;
  answered: number;
  unanswered: { what: string; count: number }[];
  /** Answers that were not what the frame called for (e.g. an error for a ping). */
  wrongAnswers: number;
  /** Server messages that were not JSON. */
  outsideProtocol: number;
  sessions: number;
  connections: number;
  closes: Record<string, number>;
  wallS: number;
}

export interface FuzzOptions {
  wsUrl: string;
  frames: number;
  seed: number;
  /** Sessions fuzzed at once. */
  lanes?: number;
  /** Share of the frames that are forged resumes and oversize frames (each costs a connection). */
  connectionFrameShare?: number;
  log?: (line: string) => void;
}

const BATCH = 16;
const ANSWER_TIMEOUT_MS = 15_000;

/** Runs the fuzz and counts what was answered. Never throws for the server's behaviour: the caller asserts. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const started = performance.now();
  const rand = random(options.seed);
  const lanes = options.lanes ?? 4;
  const connectionFrames = Math.round(options.frames * (options.connectionFrameShare ?? 0.05));
  const preStartFrames = Math.round(options.frames * 0.1);
  const sessionFramesTotal = options.frames - connectionFrames - preStartFrames;
  const stats: FuzzStats = { frames: 0, answered: 0, unanswered: [], wrongAnswers: 0, outsideProtocol: 0, sessions: 0, connections: 0, closes: {}, wallS: 0 };
  const missed = new Map<string, number>();
  const miss = (what: string, n = 1) => missed.set(what, (missed.get(what) ?? 0) + n);
  const closed = (code: number | undefined) => {
    const key = String(code ?? "open");
    stats.closes[key] = (stats.closes[key] ?? 0) + 1;
  };

  const sessionLane = async (frames: number, laneSeed: number) => {
    const next = sessionFrames(random(laneSeed));
    let left = frames;
    while (left > 0) {
      const socket = new Socket(`${options.wsUrl}/ws/stream`);
      stats.connections += 1;
      if (!(await socket.opened)) throw new Error("could not connect to Morgan");
      socket.send(JSON.stringify({ type: "start", data: { max_response_tokens: 4 } }));
      if (!(await socket.until(() => socket.count("session_started") === 1, ANSWER_TIMEOUT_MS))) {
        throw new Error(`no session_started: ${JSON.stringify(socket.received.slice(-3))}`);
      }
      stats.sessions += 1;
      // A few hundred frames per session, then a fresh one (as many clients would).
      let inSession = Math.min(left, 200 + Math.floor(rand() * 400));
      let errors = 0;
      let pongs = 0;
      while (inSession > 0 && socket.closeCode === undefined) {
        const batch = Array.from({ length: Math.min(BATCH, inSession) }, next);
        for (const frame of batch) socket.send(frame.payload);
        // Valid, silent, and it resets the server's count of invalid messages in a row.
        socket.send(JSON.stringify({ type: "playback", data: { played_ms: 0 } }));
        errors += batch.filter((f) => f.expect === "error").length;
        pongs += batch.filter((f) => f.expect === "pong").length;
        const ok = await socket.until(() => socket.count("error") >= errors && socket.count("pong") >= pongs, ANSWER_TIMEOUT_MS);
        stats.frames += batch.length;
        if (ok) stats.answered += batch.length;
        else for (const frame of batch) miss(frame.what);
        inSession -= batch.length;
        left -= batch.length;
      }
      stats.wrongAnswers += Math.max(0, socket.count("error") - errors) + Math.max(0, socket.count("pong") - pongs);
      stats.outsideProtocol += socket.outsideProtocol;
      socket.send(JSON.stringify({ type: "stop" }));
      await socket.until(() => socket.closeCode !== undefined, ANSWER_TIMEOUT_MS);
      closed(socket.closeCode);
      socket.close();
    }
  };

  const preStartLane = async (frames: number) => {
    let left = frames;
    while (left > 0) {
      const socket = new Socket(`${options.wsUrl}/ws/stream`);
      stats.connections += 1;
      await socket.opened;
      // Up to 20: the 21st invalid message in a row closes the socket as abusive (1008), by design.
      const count = Math.min(left, LIMITS.maxConsecutiveErrors);
      for (let i = 0; i < count; i++) {
        if (rand() < 0.5) {
          const bytes = new Uint8Array(1 + Math.floor(rand() * 2000));
          for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rand() * 256);
          socket.send(bytes);
        } else {
          socket.send(JSON.stringify({ type: "text", data: { text: "before start" } }).slice(0, Math.floor(rand() * 50)) || "{");
        }
      }
      const ok = await socket.until(() => socket.count("error") >= count, ANSWER_TIMEOUT_MS);
      const zeroSeq = socket.received.every((m) => m.seq === 0);
      stats.frames += count;
      if (ok && zeroSeq) stats.answered += count;
      else miss("before start", count);
      stats.outsideProtocol += socket.outsideProtocol;
      left -= count;
      socket.close();
      closed(socket.closeCode ?? CLOSE_CODES.normal);
    }
  };

  const connectionLane = async (frames: number) => {
    for (let i = 0; i < frames; i++) {
      const socket = new Socket(`${options.wsUrl}/ws/stream`);
      stats.connections += 1;
      await socket.opened;
      const oversize = i % 10 === 9;
      if (oversize) socket.send("x".repeat(LIMITS.maxFrameBytes + 1 + Math.floor(rand() * 1000)));
      else socket.send(forgedResume(rand));
      await socket.until(() => socket.closeCode !== undefined, ANSWER_TIMEOUT_MS);
      const answered = oversize
        ? socket.closeCode === CLOSE_CODES.messageTooBig
        : socket.closeCode === CLOSE_CODES.resumeFailed && socket.received.some((m) => m.data.code === "resume_failed");
      stats.frames += 1;
      if (answered) stats.answered += 1;
      else miss(oversize ? "oversize frame" : "forged resume");
      closed(socket.closeCode);
      socket.close();
    }
  };

  const perLane = Math.floor(sessionFramesTotal / lanes);
  await Promise.all([
    ...Array.from({ length: lanes }, (_, i) => sessionLane(i === 0 ? sessionFramesTotal - perLane * (lanes - 1) : perLane, options.seed * 31 + i)),
    preStartLane(preStartFrames),
    connectionLane(connectionFrames),
  ]);
  stats.unanswered = [...missed].map(([what, count]) => ({ what, count }));
  stats.wallS = (performance.now() - started) / 1000;
  options.log?.(`fuzz: ${stats.frames} frames, ${stats.answered} answered, ${stats.sessions} sessions, ${stats.connections} connections in ${stats.wallS.toFixed(1)} s`);
  return stats;
}
