/**
 * The observer seam: the one interface through which Morgan reports what happens in it. The
 * pipeline, the model adapters, the WebSocket layer and storage emit `Observation`s into an
 * `Observers` fan-out; metrics (Prometheus) and tracing (OpenTelemetry) are observers. This module
 * holds types and the fan-out only, no telemetry library, so every layer may import it.
 *
 * Times (`at`, `startedAt`) are `performance.now()` milliseconds of this process.
 */
import type { ErrorCode, LatencyReport } from "../protocol/messages";

export type TurnSource = "voice" | "text";
export type TurnOutcome = "complete" | "interrupted" | "failed";
export type ModelRole = "vad" | "stt" | "turn" | "llm" | "tts";
/** `cancelled`: the caller aborted it (barge-in, a client that went away). */
export type CallOutcome = "ok" | "error" | "cancelled";
export type StorageComponent = "cache" | "database";
/** cache: redis | memory; database: postgres | pglite | journal (writes held until PostgreSQL returns). */
export type StorageTier = "redis" | "memory" | "postgres" | "pglite" | "journal";

export type Observation =
  /**
   * An event passing from one pipeline stage to the next (`from` "input": pushed into the chain;
   * `to` "output": delivered to the client side). `position` is the chain index of `to`; `produced`
   * says `from` made the event (its first hop) rather than passing it on. An event of a turn carries
   * its id; the events before a turn exists (speech, transcripts) carry the number of the utterance
   * they belong to, which the turn_started of that utterance names.
   */
  | {
      type: "stage_event";
      sessionId: string;
      from: string;
      to: string;
      position: number;
      kind: string;
      produced: boolean;
      turnId?: string;
      utterance?: number;
      at: number;
    }
  /** `stagePosition`: the chain index of the stage that started the turn (stages up to it saw the utterance). */
  | {
      type: "turn_started";
      sessionId: string;
      conversationId: string;
      turnId: string;
      source: TurnSource;
      utterance: number;
      stagePosition: number;
      at: number;
    }
  | {
      type: "turn_ended";
      sessionId: string;
      conversationId: string;
      turnId: string;
      source: TurnSource;
      outcome: TurnOutcome;
      /** The report the client receives (all null that the turn never reached). */
      latency: LatencyReport;
      at: number;
    }
  | { type: "interruption"; sessionId: string; turnId: string; reason: "barge_in" | "client"; at: number }
  /** Speech began over a reply and ended without reaching barge-in (a backchannel, a cough, echo). */
  | { type: "false_interruption"; sessionId: string; at: number }
  /** An error the client was sent, by protocol code. */
  | { type: "error"; code: ErrorCode; sessionId?: string }
  /** One call of a model interface (src/inference/types.ts); for streams, first result and whole call. */
  | { type: "model_call"; role: ModelRole; model: string; outcome: CallOutcome; durationMs: number; firstResultMs?: number }
  /** The tier now serving, on start and on every change. */
  | { type: "storage_tier"; component: StorageComponent; tier: StorageTier }
  /**
   * A failed Redis command or PostgreSQL operation, or a lost Redis connection: `unavailable` when
   * the server could not be reached in time (Morgan falls back to the in-process cache or the
   * journal), `rejected` when it answered with an error (a constraint, a wrong type).
   */
  | { type: "storage_error"; backend: "redis" | "postgres"; kind: "unavailable" | "rejected" }
  /** A Triton endpoint (one of TRITON_URL's) started or stopped taking new requests; each is reported once at start. */
  | { type: "triton_endpoint"; endpoint: string; healthy: boolean }
  | { type: "session_opened"; sessionId: string; resumed: boolean }
  | { type: "session_closed"; sessionId: string; status: string }
  | { type: "connection_opened" }
  | { type: "connection_closed"; code: number }
  /** A WebSocket frame from a client: a protocol type, `binary_audio`, or `invalid`. */
  | { type: "message_received"; messageType: string }
  | { type: "message_sent" }
  /** A client closed because it did not read what it was sent. */
  | { type: "slow_consumer_close" };

export type ObservationType = Observation["type"];
export type ObservationOf<T extends ObservationType> = Extract<Observation, { type: T }>;

/** Live counts an observer may read at any time (a Prometheus scrape). */
export type Reading = "active_sessions" | "active_connections" | "journal_depth";

export interface Observer {
  /** The observation types this observer handles; every type when absent. */
  readonly types?: readonly ObservationType[];
  /**
   * Also the stage events of microphone audio (kind "audio", 50 a second per session on each link);
   * without it an observer of stage events sees every other kind only.
   */
  readonly audio?: boolean;
  observe(observation: Observation): void;
}

/**
 * The fan-out. Emitters call `observe`; where building an observation costs something on a hot
 * path they ask `wants(type)` first. An observer that throws is reported to `onError` and never
 * disturbs the emitter or the other observers.
 */
export class Observers {
  readonly #byType = new Map<ObservationType, Observer[]>();
  readonly #everything: Observer[] = [];
  readonly #audio: Observer[] = [];
  readonly #readers = new Map<Reading, Set<() => number>>();

  constructor(private readonly onError: (error: unknown) => void = () => {}) {}

  /** Adds an observer; returns its removal. */
  add(observer: Observer): () => void {
    if (!observer.types) this.#everything.push(observer);
    for (const type of observer.types ?? []) {
      const list = this.#byType.get(type) ?? [];
      list.push(observer);
      this.#byType.set(type, list);
    }
    if (observer.audio && (!observer.types || observer.types.includes("stage_event"))) this.#audio.push(observer);
    return () => {
      remove(this.#everything, observer);
      remove(this.#audio, observer);
      for (const list of this.#byType.values()) remove(list, observer);
    };
  }

  wants(type: ObservationType): boolean {
    return this.#everything.length > 0 || (this.#byType.get(type)?.length ?? 0) > 0;
  }

  /** Whether anyone observes the stage events of microphone audio. */
  wantsAudio(): boolean {
    return this.#audio.length > 0;
  }

  observe(observation: Observation): void {
    if (observation.type === "stage_event" && observation.kind === "audio") {
      for (const observer of this.#audio) this.#deliver(observer, observation);
      return;
    }
    for (const observer of this.#everything) this.#deliver(observer, observation);
    const typed = this.#byType.get(observation.type);
    if (typed) for (const observer of typed) this.#deliver(observer, observation);
  }

  /** Makes a live count readable; several providers of one reading add up. Returns its removal. */
  provide(reading: Reading, read: () => number): () => void {
    const readers = this.#readers.get(reading) ?? new Set();
    readers.add(read);
    this.#readers.set(reading, readers);
    return () => readers.delete(read);
  }

  read(reading: Reading): number {
    let total = 0;
    for (const read of this.#readers.get(reading) ?? []) total += read();
    return total;
  }

  #deliver(observer: Observer, observation: Observation): void {
    try {
      observer.observe(observation);
    } catch (error) {
      this.onError(error);
    }
  }
}

function remove<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}
