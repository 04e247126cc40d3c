/**
 * Prometheus metrics (prom-client) as an observer of the seam (./events.ts): the process defaults
 * plus Morgan's own `morgan_*` metrics. Counters and histograms follow observations as they come;
 * gauges of live counts are read from the seam when Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Observation, ObservationOf, ObservationType, Observer, Observers, StorageComponent, StorageTier } from "./events";

/** Where a turn's latencies fall: from a fast CPU model (milliseconds) to a slow GPU queue (seconds). */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/** A Triton request: a VAD frame takes a millisecond, a whole synthesis or generation seconds. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TIERS: Record<StorageComponent, StorageTier[]> = { cache: ["redis", "memory"], database: ["postgres", "pglite", "journal"] };

const seconds = (ms: number) => ms / 1000;

export class MetricsObserver implements Observer {
  readonly types: readonly ObservationType[] = [
    "turn_ended",
    "interruption",
    "false_interruption",
    "error",
    "model_call",
    "message_received",
    "message_sent",
    "slow_consumer_close",
    "connection_closed",
    "session_opened",
    "session_closed",
    "storage_tier",
    "storage_error",
    "triton_endpoint",
  ];
  readonly registry = new Registry();
  readonly #turns: Counter<"source" | "outcome">;
  readonly #interruptions: Counter<"reason">;
  readonly #falseInterruptions: Counter;
  readonly #errors: Counter<"code">;
  readonly #endpointing: Histogram;
  readonly #sttFinal: Histogram;
  readonly #llmFirstToken: Histogram<"model">;
  readonly #ttsFirstChunk: Histogram<"model">;
  readonly #firstAudio: Histogram;
  readonly #requests: Histogram<"model" | "outcome">;
  readonly #received: Counter<"type">;
  readonly #sent: Counter;
  readonly #slowConsumers: Counter;
  readonly #connectionsClosed: Counter<"code">;
  readonly #sessionsOpened: Counter<"resumed">;
  readonly #sessionsClosed: Counter<"status">;
  readonly #tier: Gauge<"component" | "tier">;
  readonly #storageErrors: Counter<"backend" | "kind">;
  readonly #tritonEndpoint: Gauge<"endpoint">;

  constructor(observers: Observers) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const live = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    live("morgan_active_sessions", "Voice sessions held by this instance, connected or waiting for a resume", () => observers.read("active_sessions"));
    live("morgan_active_connections", "Open WebSocket connections", () => observers.read("active_connections"));
    live("morgan_storage_journal_depth", "Writes journaled while PostgreSQL is away, not yet applied", () => observers.read("journal_depth"));
    this.#turns = new Counter({ name: "morgan_turns_total", help: "Turns ended, by source and outcome", labelNames: ["source", "outcome"], registers });
    this.#interruptions = new Counter({ name: "morgan_interruptions_total", help: "Replies interrupted, by barge-in or the client", labelNames: ["reason"], registers });
    this.#falseInterruptions = new Counter({
      name: "morgan_false_interruptions_total",
      help: "Speech over a reply that ended before it counted as barge-in (backchannel, noise, echo)",
      registers,
    });
    this.#errors = new Counter({ name: "morgan_errors_total", help: "Errors sent to clients, by protocol error code", labelNames: ["code"], registers });
    const latency = (name: string, help: string) => new Histogram({ name, help, buckets: LATENCY_BUCKETS, registers });
    const latencyByModel = (name: string, help: string) => new Histogram({ name, help, labelNames: ["model"], buckets: LATENCY_BUCKETS, registers });
    this.#endpointing = latency("morgan_endpointing_delay_seconds", "End of speech (the last voiced audio) to the decision that the user's turn was over");
    this.#sttFinal = latency("morgan_stt_final_seconds", "End of speech to the final transcript");
    this.#firstAudio = latency("morgan_end_of_speech_to_first_audio_seconds", "End of speech to the first reply audio sent (voice turns)");
    this.#llmFirstToken = latencyByModel("morgan_llm_time_to_first_token_seconds", "LLM request to its first token");
    this.#ttsFirstChunk = latencyByModel("morgan_tts_first_chunk_seconds", "TTS request to its first audio chunk");
    this.#requests = new Histogram({
      name: "morgan_triton_request_duration_seconds",
      help: "Model calls (a VAD frame, an STT final, a whole generation or synthesis), by model and outcome",
      labelNames: ["model", "outcome"],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.#received = new Counter({ name: "morgan_ws_messages_received_total", help: "WebSocket frames received, by message type", labelNames: ["type"], registers });
    this.#sent = new Counter({ name: "morgan_ws_messages_sent_total", help: "WebSocket messages sent", registers });
    this.#slowConsumers = new Counter({ name: "morgan_ws_slow_consumer_closes_total", help: "Connections closed because the client did not read", registers });
    this.#connectionsClosed = new Counter({ name: "morgan_ws_connections_closed_total", help: "WebSocket connections closed, by close code", labelNames: ["code"], registers });
    this.#sessionsOpened = new Counter({ name: "morgan_sessions_opened_total", help: "Sessions started here, or taken over by a resume", labelNames: ["resumed"], registers });
    this.#sessionsClosed = new Counter({ name: "morgan_sessions_closed_total", help: "Sessions ended, by status", labelNames: ["status"], registers });
    this.#tier = new Gauge({ name: "morgan_storage_tier", help: "1 for the storage tier serving each component", labelNames: ["component", "tier"], registers });
    this.#storageErrors = new Counter({
      name: "morgan_storage_errors_total",
      help: "Failed Redis commands and PostgreSQL operations: unavailable (unreachable, timed out) or rejected",
      labelNames: ["backend", "kind"],
      registers,
    });
    this.#tritonEndpoint = new Gauge({
      name: "morgan_triton_endpoint_healthy",
      help: "1 while a Triton endpoint (of TRITON_URL's list) takes new requests, 0 while its health probe fails",
      labelNames: ["endpoint"],
      registers,
    });
  }

  observe(observation: Observation): void {
    switch (observation.type) {
      case "turn_ended":
        return this.#turnEnded(observation);
      case "interruption":
        return this.#interruptions.inc({ reason: observation.reason });
      case "false_interruption":
        return this.#falseInterruptions.inc();
      case "error":
        return this.#errors.inc({ code: observation.code });
      case "model_call":
        return this.#modelCall(observation);
      case "message_received":
        return this.#received.inc({ type: observation.messageType });
      case "message_sent":
        return this.#sent.inc();
      case "slow_consumer_close":
        return this.#slowConsumers.inc();
      case "connection_closed":
        return this.#connectionsClosed.inc({ code: String(observation.code) });
      case "session_opened":
        return this.#sessionsOpened.inc({ resumed: String(observation.resumed) });
      case "session_closed":
        return this.#sessionsClosed.inc({ status: observation.status });
      case "storage_tier":
        for (const tier of TIERS[observation.component]) this.#tier.set({ component: observation.component, tier }, tier === observation.tier ? 1 : 0);
        return;
      case "storage_error":
        return this.#storageErrors.inc({ backend: observation.backend, kind: observation.kind });
      case "triton_endpoint":
        return this.#tritonEndpoint.set({ endpoint: observation.endpoint }, observation.healthy ? 1 : 0);
    }
  }

  /** The scrape: Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #turnEnded(turn: ObservationOf<"turn_ended">): void {
    this.#turns.inc({ source: turn.source, outcome: turn.outcome });
    if (turn.source !== "voice") return;
    const { endpointing_ms, stt_final_ms, tts_first_chunk_ms } = turn.latency;
    if (endpointing_ms !== null) this.#endpointing.observe(seconds(endpointing_ms));
    if (stt_final_ms !== null) this.#sttFinal.observe(seconds(stt_final_ms));
    if (tts_first_chunk_ms !== null) this.#firstAudio.observe(seconds(tts_first_chunk_ms));
  }

  #modelCall(call: ObservationOf<"model_call">): void {
    this.#requests.observe({ model: call.model, outcome: call.outcome }, seconds(call.durationMs));
    if (call.firstResultMs === undefined) return;
    if (call.role === "llm") this.#llmFirstToken.observe({ model: call.model }, seconds(call.firstResultMs));
    if (call.role === "tts") this.#ttsFirstChunk.observe({ model: call.model }, seconds(call.firstResultMs));
  }
}
