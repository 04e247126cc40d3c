/**
 * Tracing end to end: a real Morgan server switched on by the standard OTEL_* variables exports over
 * OTLP/HTTP (JSON) to a collector stand-in run by this test (it records what arrives; no collector
 * ships in a package here). One real voice turn gives one trace: the turn span with the session,
 * conversation and turn ids, and a child span per pipeline stage, in the order the reply was made.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sparePort, waitFor } from "../helpers/services";
import { TestClient, streamAudio } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";
import { pcmChunks, silence, speak } from "../pipeline/support/speech";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: { key: string; value: OtlpValue }[];
}
interface ExportRequest {
  resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const received: { spans: OtlpSpan[]; services: Set<string> } = { spans: [], services: new Set() };
const collectorPort = sparePort();
const collector = Bun.serve({
  port: collectorPort,
  hostname: "127.0.0.1",
  async fetch(request) {
    if (new URL(request.url).pathname !== "/v1/traces" || request.method !== "POST") return new Response("not found", { status: 404 });
    const body = (await request.json()) as ExportRequest;
    for (const resource of body.resourceSpans) {
      const name = resource.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
      if (name) received.services.add(name);
      for (const scope of resource.scopeSpans) received.spans.push(...scope.spans);
    }
    return Response.json({});
  },
});
afterAll(() => collector.stop(true));

const server = useServer({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "morgan-under-test" } });

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : (value?.doubleValue ?? value?.boolValue));
};
const ms = (nanos: string | number) => Number(BigInt(nanos) / 1000n) / 1000;

describe("the trace of one voice turn", () => {
  let turn: OtlpSpan;
  let children: OtlpSpan[];
  let ids: { session: string; conversation: string; turn: string };
  let lastChunkMs: number;

  beforeAll(async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream/trace-user`);
    client.send({ type: "start", data: { language: "en" } });
    const started = await client.next("session_started");
    for (const part of [silence(300), speak("what is the weather like today"), silence(1200)]) await streamAudio(client, pcmChunks(part));
    const complete = await client.next("response_complete", { timeoutMs: 30_000 });
    ids = { session: started.data.session_id, conversation: started.data.conversation_id, turn: complete.data.turn_id };
    lastChunkMs = complete.data.latency.last_chunk_ms!;
    await waitFor(() => received.spans.some((s) => s.name === "turn"), 15_000, "the turn span to be exported");
    turn = received.spans.find((s) => s.name === "turn")!;
    await waitFor(() => received.spans.filter((s) => s.parentSpanId === turn.spanId).length >= 6, 5_000, "the stage spans");
    children = received.spans.filter((s) => s.parentSpanId === turn.spanId).sort((a, b) => ms(a.startTimeUnixNano) - ms(b.startTimeUnixNano));
    client.close();
  }, 90_000);

  test("the turn span carries the session, conversation and turn ids and the outcome", () => {
    expect(received.services).toContain("morgan-under-test");
    expect(turn.parentSpanId ?? "").toBe("");
    expect(attribute(turn, "morgan.session_id")).toBe(ids.session);
    expect(attribute(turn, "morgan.conversation_id")).toBe(ids.conversation);
    expect(attribute(turn, "morgan.turn_id")).toBe(ids.turn);
    expect(attribute(turn, "morgan.turn.source")).toBe("voice");
    expect(attribute(turn, "morgan.turn.outcome")).toBe("complete");
    expect(attribute(turn, "morgan.latency.last_chunk_ms")).toBe(lastChunkMs);
  });

  test("one child span per stage, in the trace of the turn, within its time", () => {
    expect(children.map((s) => s.name).sort()).toEqual(["conversation", "llm", "output", "sentences", "tts", "turn-taking"]);
    const [start, end] = [ms(turn.startTimeUnixNano), ms(turn.endTimeUnixNano)];
    for (const child of children) {
      expect(child.traceId).toBe(turn.traceId);
      expect(ms(child.startTimeUnixNano)).toBeGreaterThanOrEqual(start);
      expect(ms(child.endTimeUnixNano)).toBeLessThanOrEqual(end + 0.001);
    }
    // From the start of speech to the end of the reply's playout: longer than end of speech → last audio.
    expect(end - start).toBeGreaterThan(lastChunkMs);
  });

  test("the stages follow the reply: the user's speech and its end, the conversation, generation, sentences, speech out", () => {
    const span = (name: string) => children.find((s) => s.name === name)!;
    const [turnTaking, conversation, llm, sentences, tts, output] = ["turn-taking", "conversation", "llm", "sentences", "tts", "output"].map(span) as OtlpSpan[];
    // Turn-taking spans the utterance: from the start of speech, so it opens the trace.
    expect(ms(turnTaking!.startTimeUnixNano)).toBeCloseTo(ms(turn.startTimeUnixNano), 3);
    expect(ms(turnTaking!.endTimeUnixNano)).toBeLessThanOrEqual(ms(conversation!.startTimeUnixNano) + 0.001);
    expect(ms(conversation!.endTimeUnixNano)).toBeLessThanOrEqual(ms(llm!.startTimeUnixNano) + 0.001);
    expect(ms(llm!.startTimeUnixNano)).toBeLessThanOrEqual(ms(sentences!.startTimeUnixNano));
    expect(ms(sentences!.startTimeUnixNano)).toBeLessThanOrEqual(ms(tts!.startTimeUnixNano));
    expect(ms(tts!.startTimeUnixNano)).toBeLessThanOrEqual(ms(output!.startTimeUnixNano));
    expect(ms(output!.endTimeUnixNano)).toBeCloseTo(ms(turn.endTimeUnixNano), 3);
    expect(attribute(llm!, "morgan.turn_id")).toBe(ids.turn);
  });

  test("HTTP requests are traced too (@hono/otel), by route", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await waitFor(() => received.spans.some((s) => s.name === "GET /health"), 10_000, "the HTTP span");
    const upgrade = received.spans.find((s) => s.name === "GET /ws/stream/:user_id");
    expect(upgrade).toBeDefined();
    expect(attribute(upgrade!, "http.route")).toBe("/ws/stream/:user_id");
  });
});
