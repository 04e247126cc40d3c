/**
 * /metrics end to end: a real Morgan server (PostgreSQL, Redis, Triton's CPU models), a real voice
 * turn over a WebSocket, then the scrape read by the Prometheus project's own text parser. Every
 * metric of the issue is there, and the turn's latency report is in the histograms.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import type { LatencyReport } from "../../src/protocol/messages";
import { sparePort } from "../helpers/services";
import { type Family, family, parsePrometheusText, samples, value } from "../helpers/prometheus";
import { TestClient, streamAudio } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";
import { pcmChunks, silence, speak } from "../pipeline/support/speech";

const metricsPort = sparePort();
/** Listening beyond loopback (so a remote client can be tried) needs authentication: an operator's key and a user's. */
const KEYS = { admin: `ops-${"a".repeat(40)}`, user: `viewer-${"u".repeat(40)}` };
const server = useServer({
  env: { MORGAN_METRICS_PORT: String(metricsPort), MORGAN_HOST: "0.0.0.0", MORGAN_AUTH_MODE: "api_key", MORGAN_API_KEYS: `ops:admin:${KEYS.admin},viewer:user:${KEYS.user}` },
});
const asAdmin = { authorization: `Bearer ${KEYS.admin}` };

/** The list, by name, plus the process defaults. */
const EXPECTED = [
  "morgan_active_sessions",
  "morgan_active_connections",
  "morgan_turns_total",
  "morgan_interruptions_total",
  "morgan_false_interruptions_total",
  "morgan_errors_total",
  "morgan_endpointing_delay_seconds",
  "morgan_stt_final_seconds",
  "morgan_llm_time_to_first_token_seconds",
  "morgan_tts_first_chunk_seconds",
  "morgan_end_of_speech_to_first_audio_seconds",
  "morgan_triton_request_duration_seconds",
  "morgan_ws_messages_received_total",
  "morgan_ws_messages_sent_total",
  "morgan_ws_slow_consumer_closes_total",
  "morgan_storage_tier",
  "morgan_storage_journal_depth",
  "morgan_storage_errors_total",
  "morgan_triton_endpoint_healthy",
  "morgan_sessions_opened_total",
  "morgan_sessions_closed_total",
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "nodejs_eventloop_lag_seconds",
];

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Family[]> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parsePrometheusText(await response.text());
}

/** An address of this machine that is not loopback: the server then sees a remote client. */
function outsideAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
  if (!address) throw new Error("this test needs a non-loopback IPv4 interface to reach the server as a remote client");
  return address;
}

describe("/metrics after one voice turn", () => {
  let client: TestClient;
  let latency: LatencyReport;
  let audioChunks = 0;
  let afterTurn: Family[];

  beforeAll(async () => {
    client = await TestClient.connect(`${server.wsUrl}/ws/stream/metrics-user`, { headers: asAdmin });
    client.sendRaw("{not json"); // one client error, so errors_total has a code to show
    await client.next("error");
    client.send({ type: "start", data: { language: "en" } });
    await client.next("session_started");
    const chunks = [silence(300), speak("what is the weather like today"), silence(1200)].flatMap((part) => pcmChunks(part));
    audioChunks = chunks.length;
    await streamAudio(client, chunks);
    latency = (await client.next("response_complete", { timeoutMs: 30_000 })).data.latency;
    afterTurn = await scrape(`${server.url}/metrics`, asAdmin);
  }, 90_000);

  test("every metric of the issue and the process defaults are exposed", () => {
    const missing = EXPECTED.filter((name) => !family(afterTurn, name));
    expect(missing).toEqual([]);
  });

  test("the separate metrics port serves the same families", async () => {
    const fromPort = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(fromPort.map((f) => f.name).sort()).toEqual(afterTurn.map((f) => f.name).sort());
    const other = await fetch(`http://127.0.0.1:${metricsPort}/v1/conversations?user_id=x`);
    expect(other.status).toBe(404);
  });

  test("the turn's latency report is in the histograms", () => {
    const single = (name: string) => {
      expect(value(afterTurn, `${name}_count`)).toBe(1);
      return value(afterTurn, `${name}_sum`);
    };
    expect(single("morgan_endpointing_delay_seconds")).toBeCloseTo(latency.endpointing_ms! / 1000, 6);
    expect(single("morgan_stt_final_seconds")).toBeCloseTo(latency.stt_final_ms! / 1000, 6);
    expect(single("morgan_end_of_speech_to_first_audio_seconds")).toBeCloseTo(latency.tts_first_chunk_ms! / 1000, 6);
    // Time to first token is measured around the LLM call itself, inside the report's span.
    expect(value(afterTurn, "morgan_llm_time_to_first_token_seconds_count", { model: "llm" })).toBe(1);
    const ttft = value(afterTurn, "morgan_llm_time_to_first_token_seconds_sum", { model: "llm" });
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThanOrEqual((latency.llm_first_token_ms! - latency.stt_final_ms!) / 1000);
    expect(value(afterTurn, "morgan_tts_first_chunk_seconds_count", { model: "tts" })).toBeGreaterThanOrEqual(1);
  });

  test("model calls by model and outcome: VAD frames, STT finals, end-of-turn predictions, one generation, the syntheses", () => {
    const calls = (model: string) => value(afterTurn, "morgan_triton_request_duration_seconds_count", { model, outcome: "ok" });
    // VAD requests coalesce while one is in flight, so there are at most as many as audio chunks.
    expect(calls("vad")).toBeGreaterThan(0);
    expect(calls("vad")).toBeLessThanOrEqual(audioChunks);
    // Turn-taking may ask for a speculative final before the end of the turn, and use it.
    expect(calls("stt")).toBeGreaterThanOrEqual(1);
    expect(calls("turn")).toBeGreaterThanOrEqual(1);
    expect(calls("llm")).toBe(1);
    expect(calls("tts")).toBeGreaterThanOrEqual(1);
  });

  test("turns, sessions, connections, messages and errors are counted", () => {
    expect(value(afterTurn, "morgan_turns_total", { source: "voice", outcome: "complete" })).toBe(1);
    expect(value(afterTurn, "morgan_active_sessions")).toBe(1);
    expect(value(afterTurn, "morgan_active_connections")).toBe(1);
    expect(value(afterTurn, "morgan_sessions_opened_total", { resumed: "false" })).toBe(1);
    expect(value(afterTurn, "morgan_ws_messages_received_total", { type: "audio" })).toBe(audioChunks);
    expect(value(afterTurn, "morgan_ws_messages_received_total", { type: "start" })).toBe(1);
    expect(value(afterTurn, "morgan_ws_messages_received_total", { type: "invalid" })).toBe(1);
    expect(value(afterTurn, "morgan_errors_total", { code: "invalid_json" })).toBe(1);
    expect(value(afterTurn, "morgan_ws_messages_sent_total")).toBeGreaterThanOrEqual(client.received.length);
    expect(value(afterTurn, "morgan_ws_slow_consumer_closes_total")).toBe(0);
    expect(value(afterTurn, "morgan_false_interruptions_total")).toBe(0);
  });

  test("storage: the tier in use, the journal's depth", () => {
    expect(value(afterTurn, "morgan_storage_tier", { component: "cache", tier: "redis" })).toBe(1);
    expect(value(afterTurn, "morgan_storage_tier", { component: "cache", tier: "memory" })).toBe(0);
    expect(value(afterTurn, "morgan_storage_tier", { component: "database", tier: "postgres" })).toBe(1);
    expect(value(afterTurn, "morgan_storage_tier", { component: "database", tier: "journal" })).toBe(0);
    expect(value(afterTurn, "morgan_storage_journal_depth")).toBe(0);
    expect(samples(afterTurn, "morgan_storage_errors_total").every((s) => s.labels.kind !== "unavailable")).toBe(true);
  });

  test("an interrupted text turn and the end of the session show up in the next scrape", async () => {
    const from = client.received.length;
    client.send({ type: "text", data: { text: "tell me a long story about the sea" } });
    await client.next("response_audio", { from, timeoutMs: 20_000 });
    client.send({ type: "interrupt" });
    await client.next("interrupted", { from, timeoutMs: 10_000 });
    client.send({ type: "stop" });
    await client.next("session_ended", { from });
    await client.closed();
    const after = await scrape(`${server.url}/metrics`, asAdmin);
    expect(value(after, "morgan_interruptions_total", { reason: "client" })).toBe(1);
    expect(value(after, "morgan_turns_total", { source: "text", outcome: "interrupted" })).toBe(1);
    expect(value(after, "morgan_sessions_closed_total", { status: "completed" })).toBe(1);
    expect(value(after, "morgan_active_sessions")).toBe(0);
    expect(value(after, "morgan_active_connections")).toBe(0);
    expect(value(after, "morgan_ws_connections_closed_total", { code: "1000" })).toBe(1);
  }, 40_000);

  test("the main port's /metrics needs the admin scope, from any address; the metrics port serves anyone who reaches it", async () => {
    const address = outsideAddress();
    const anonymous = await fetch(`http://${address}:${server.port}/metrics`);
    expect(anonymous.status).toBe(401);
    const user = await fetch(`http://${address}:${server.port}/metrics`, { headers: { authorization: `Bearer ${KEYS.user}` } });
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: string }).error).toBe("forbidden");
    expect((await fetch(`http://${address}:${server.port}/metrics`, { headers: asAdmin })).status).toBe(200);
    expect((await fetch(`http://${address}:${metricsPort}/metrics`)).status).toBe(200);
  });
});
