/** The Prometheus observer: what each observation does to Morgan's metrics. */
import { expect, test } from "bun:test";
import type { LatencyReport } from "../protocol/messages";
import { Observers } from "./events";
import { MetricsObserver } from "./metrics";

const LATENCY: LatencyReport = {
  endpointing_ms: 500,
  stt_final_ms: 250,
  llm_first_token_ms: 300,
  first_sentence_ms: 320,
  tts_first_chunk_ms: 400,
  last_chunk_ms: 800,
};

async function valueOf(metrics: MetricsObserver, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const [metric] = (await metrics.registry.getMetricsAsJSON()).filter((m) => m.name === name.replace(/_(sum|count)$/, ""));
  const sample = (metric?.values ?? []).find(
    (v) => ((v as { metricName?: string }).metricName ?? metric!.name) === name && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  return sample?.value;
}

function setup() {
  const observers = new Observers();
  const metrics = new MetricsObserver(observers);
  observers.add(metrics);
  return { observers, metrics };
}

test("the storage tier gauge marks the one tier in use per component", async () => {
  const { observers, metrics } = setup();
  observers.observe({ type: "storage_tier", component: "database", tier: "postgres" });
  observers.observe({ type: "storage_tier", component: "database", tier: "journal" });
  expect(await valueOf(metrics, "morgan_storage_tier", { component: "database", tier: "journal" })).toBe(1);
  expect(await valueOf(metrics, "morgan_storage_tier", { component: "database", tier: "postgres" })).toBe(0);
  expect(await valueOf(metrics, "morgan_storage_tier", { component: "cache", tier: "redis" })).toBeUndefined();
});

test("the Triton endpoint gauge follows each endpoint's health", async () => {
  const { observers, metrics } = setup();
  observers.observe({ type: "triton_endpoint", endpoint: "10.0.0.1:8001", healthy: true });
  observers.observe({ type: "triton_endpoint", endpoint: "10.0.0.2:8001", healthy: true });
  observers.observe({ type: "triton_endpoint", endpoint: "10.0.0.1:8001", healthy: false });
  expect(await valueOf(metrics, "morgan_triton_endpoint_healthy", { endpoint: "10.0.0.1:8001" })).toBe(0);
  expect(await valueOf(metrics, "morgan_triton_endpoint_healthy", { endpoint: "10.0.0.2:8001" })).toBe(1);
});

test("live counts are read from the seam at scrape time", async () => {
  const { observers, metrics } = setup();
  let sessions = 3;
  observers.provide("active_sessions", () => sessions);
  observers.provide("journal_depth", () => 7);
  expect(await valueOf(metrics, "morgan_active_sessions")).toBe(3);
  sessions = 1;
  expect(await valueOf(metrics, "morgan_active_sessions")).toBe(1);
  expect(await valueOf(metrics, "morgan_storage_journal_depth")).toBe(7);
  expect(await valueOf(metrics, "morgan_active_connections")).toBe(0);
});

test("a voice turn feeds the latency histograms, a text turn only the turn counter", async () => {
  const { observers, metrics } = setup();
  const turn = { sessionId: "s", conversationId: "c", turnId: "t", outcome: "complete" as const, latency: LATENCY, at: 0 };
  observers.observe({ type: "turn_ended", ...turn, source: "voice" });
  observers.observe({ type: "turn_ended", ...turn, source: "text" });
  expect(await valueOf(metrics, "morgan_turns_total", { source: "voice", outcome: "complete" })).toBe(1);
  expect(await valueOf(metrics, "morgan_turns_total", { source: "text", outcome: "complete" })).toBe(1);
  expect(await valueOf(metrics, "morgan_stt_final_seconds_count")).toBe(1);
  expect(await valueOf(metrics, "morgan_stt_final_seconds_sum")).toBeCloseTo(0.25, 9);
  expect(await valueOf(metrics, "morgan_endpointing_delay_seconds_sum")).toBeCloseTo(0.5, 9);
  expect(await valueOf(metrics, "morgan_end_of_speech_to_first_audio_seconds_sum")).toBeCloseTo(0.4, 9);
});

test("model calls: duration by model and outcome; first results only for the LLM and TTS", async () => {
  const { observers, metrics } = setup();
  observers.observe({ type: "model_call", role: "llm", model: "qwen", outcome: "ok", durationMs: 900, firstResultMs: 120 });
  observers.observe({ type: "model_call", role: "vad", model: "silero", outcome: "error", durationMs: 3, firstResultMs: 3 });
  observers.observe({ type: "model_call", role: "tts", model: "piper", outcome: "cancelled", durationMs: 50 });
  expect(await valueOf(metrics, "morgan_triton_request_duration_seconds_count", { model: "silero", outcome: "error" })).toBe(1);
  expect(await valueOf(metrics, "morgan_triton_request_duration_seconds_sum", { model: "qwen", outcome: "ok" })).toBeCloseTo(0.9, 9);
  expect(await valueOf(metrics, "morgan_llm_time_to_first_token_seconds_sum", { model: "qwen" })).toBeCloseTo(0.12, 9);
  expect(await valueOf(metrics, "morgan_tts_first_chunk_seconds_count", { model: "piper" })).toBeUndefined();
});

test("storage failures by backend and kind; slow consumers; errors by code", async () => {
  const { observers, metrics } = setup();
  observers.observe({ type: "storage_error", backend: "redis", kind: "unavailable" });
  observers.observe({ type: "storage_error", backend: "redis", kind: "unavailable" });
  observers.observe({ type: "storage_error", backend: "postgres", kind: "rejected" });
  observers.observe({ type: "slow_consumer_close" });
  observers.observe({ type: "error", code: "invalid_audio" });
  expect(await valueOf(metrics, "morgan_storage_errors_total", { backend: "redis", kind: "unavailable" })).toBe(2);
  expect(await valueOf(metrics, "morgan_storage_errors_total", { backend: "postgres", kind: "rejected" })).toBe(1);
  expect(await valueOf(metrics, "morgan_ws_slow_consumer_closes_total")).toBe(1);
  expect(await valueOf(metrics, "morgan_errors_total", { code: "invalid_audio" })).toBe(1);
});

test("the scrape is Prometheus text with the process defaults", async () => {
  const { metrics } = setup();
  const text = await metrics.text();
  expect(metrics.contentType).toContain("text/plain");
  expect(text).toContain("# TYPE morgan_turns_total counter");
  expect(text).toContain("# TYPE process_cpu_seconds_total counter");
});
