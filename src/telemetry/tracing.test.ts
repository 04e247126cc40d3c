/** The span tree the tracing observer builds from the seam's observations, caught by an in-memory exporter. */
import { describe, expect, test } from "bun:test";
import { SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import type { LatencyReport } from "../protocol/messages";
import type { Observation, TurnOutcome } from "./events";
import { startTracing } from "./tracing";

const CHAIN = ["turn-taking", "conversation", "llm", "sentences", "tts"];
const LATENCY: LatencyReport = {
  endpointing_ms: 500,
  stt_final_ms: 300,
  llm_first_token_ms: 350,
  first_sentence_ms: 360,
  tts_first_chunk_ms: 420,
  last_chunk_ms: 900,
};

/** Keeps its spans when the provider shuts down (the plain one forgets them then). */
class KeepingExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function tracing(sampler: "always_on" | "always_off" = "always_on") {
  const exporter = new KeepingExporter();
  const tracer = startTracing({ serviceName: "test", serviceVersion: "0", sampler, samplerRatio: 1, batchDelayMs: 10, exporter });
  const observe = (o: Observation) => tracer.observer.observe(o);
  /** One event travelling from `stage` to the output at time `at` (a millisecond per hop). */
  const travel = (stage: string, kind: string, at: number, ids: { turnId?: string; utterance?: number }) => {
    for (let i = CHAIN.indexOf(stage); i < CHAIN.length; i++) {
      const produced = i === CHAIN.indexOf(stage);
      observe({ type: "stage_event", sessionId: "s", from: CHAIN[i]!, to: CHAIN[i + 1] ?? "output", position: i + 1, kind, produced, at: at + i, ...ids });
    }
  };
  const spans = async () => {
    await tracer.shutdown();
    return exporter.getFinishedSpans();
  };
  return { observe, travel, spans };
}

function voiceTurn(t: ReturnType<typeof tracing>, turnId: string, outcome: TurnOutcome, base: number) {
  const utterance = 1;
  t.travel("turn-taking", "speech_started", base + 100, { utterance });
  t.travel("turn-taking", "transcript", base + 400, { utterance }); // a partial, passing every stage
  t.travel("turn-taking", "speech_stopped", base + 1000, { utterance });
  t.travel("turn-taking", "transcript", base + 1300, { utterance }); // the final
  t.observe({ type: "turn_started", sessionId: "s", conversationId: "c", turnId, source: "voice", utterance, stagePosition: 0, at: base + 1320 });
  t.travel("turn-taking", "user_turn", base + 1320, { turnId });
  t.travel("conversation", "turn_started", base + 1350, { turnId });
  t.travel("llm", "llm_delta", base + 1400, { turnId });
  t.travel("sentences", "sentence", base + 1420, { turnId });
  t.travel("tts", "tts_audio", base + 1480, { turnId });
  t.travel("llm", "llm_done", base + 1500, { turnId });
  t.travel("tts", "tts_done", base + 1600, { turnId });
  t.observe({ type: "turn_ended", sessionId: "s", conversationId: "c", turnId, source: "voice", outcome, latency: LATENCY, at: base + 4000 });
}

const relative = (span: ReadableSpan, zero: number) => [
  span.name,
  Math.round(span.startTime[0] * 1000 + span.startTime[1] / 1e6 - zero),
  Math.round(span.endTime[0] * 1000 + span.endTime[1] / 1e6 - zero),
];

describe("TracingObserver", () => {
  test("a turn span with the ids and the report, and a child per stage from its first event to its last", async () => {
    const t = tracing();
    const base = 10_000;
    voiceTurn(t, "turn-1", "complete", base);
    const spans = await t.spans();
    const turn = spans.find((s) => s.name === "turn")!;
    expect(turn.parentSpanContext).toBeUndefined();
    expect(turn.attributes).toMatchObject({
      "morgan.session_id": "s",
      "morgan.conversation_id": "c",
      "morgan.turn_id": "turn-1",
      "morgan.turn.source": "voice",
      "morgan.turn.outcome": "complete",
      "morgan.latency.tts_first_chunk_ms": 420,
    });
    const children = spans.filter((s) => s.parentSpanContext?.spanId === turn.spanContext().spanId);
    expect(children.every((s) => s.spanContext().traceId === turn.spanContext().traceId)).toBe(true);
    const zero = performance.timeOrigin + base;
    // Times in ms from `base` (each hop of an event a millisecond later): turn-taking spans the
    // utterance from the start of speech (the partial transcript passing the later stages before the
    // turn existed counts for none of them); a stage starts with the first event the stage before it
    // made (the LLM with turn_started, not with user_turn passing through); the last stage plays
    // out until the turn ends.
    expect([turn, ...children].map((s) => relative(s, zero))).toEqual([
      ["turn", 100, 4000],
      ["turn-taking", 100, 1320],
      ["conversation", 1320, 1351],
      ["llm", 1351, 1502],
      ["sentences", 1402, 1503],
      ["tts", 1423, 1604],
      ["output", 1484, 4000],
    ]);
    expect(turn.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  test("a failed turn is an error span; turns of an unsampled trace produce nothing", async () => {
    const failing = tracing();
    voiceTurn(failing, "turn-2", "failed", 0);
    expect((await failing.spans()).find((s) => s.name === "turn")!.status.code).toBe(SpanStatusCode.ERROR);
    const off = tracing("always_off");
    voiceTurn(off, "turn-3", "complete", 0);
    expect(await off.spans()).toEqual([]);
  });

  test("a session that closes drops what it held; a turn that never started leaves no span", async () => {
    const t = tracing();
    t.observe({ type: "turn_ended", sessionId: "s", conversationId: "c", turnId: "unknown", source: "text", outcome: "complete", latency: LATENCY, at: 5 });
    t.observe({ type: "turn_started", sessionId: "s", conversationId: "c", turnId: "t", source: "text", utterance: 1, stagePosition: 2, at: 1 });
    t.observe({ type: "session_closed", sessionId: "s", status: "completed" });
    t.observe({ type: "turn_ended", sessionId: "s", conversationId: "c", turnId: "t", source: "text", outcome: "complete", latency: LATENCY, at: 5 });
    expect(await t.spans()).toEqual([]);
  });
});

describe("HTTP spans", () => {
  test("a credential in the query (the WebSocket's ?token=) is redacted from url.full", async () => {
    const { Hono } = await import("hono");
    const exporter = new KeepingExporter();
    const tracer = startTracing({ serviceName: "test", serviceVersion: "0", sampler: "always_on", samplerRatio: 1, batchDelayMs: 10, exporter });
    const app = new Hono().use("*", tracer.http).get("/ws/stream", (c) => c.text("ok"));
    await app.request("/ws/stream?user=a&token=eyJhbGciOi.secret-part.sig&x=1");
    await tracer.shutdown();
    const urls = exporter.getFinishedSpans().map((span) => String(span.attributes["url.full"]));
    expect(urls).toEqual(["http://localhost/ws/stream?user=a&token=[redacted]&x=1"]);
  });
});
