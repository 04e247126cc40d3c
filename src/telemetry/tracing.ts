/**
 * OpenTelemetry tracing as an observer of the seam (./events.ts): one span per turn, carrying the
 * session, conversation and turn ids, with a child span per pipeline stage. A stage's span runs from
 * the first event of the turn that the stage before it made (events only passing through announce,
 * they give no work) to the last event it passed on; turn-taking's work before the turn existed is
 * spanned by the utterance the turn came from; the last stage (the paced playout to the client)
 * runs until the turn ends. Spans are built when the turn ends, from the times the seam reported,
 * so nothing is held open while a session idles.
 *
 * Off unless the standard OTEL_* variables switch it on (config section `telemetry`); spans leave
 * through the OTLP/HTTP exporter. HTTP requests are traced by @hono/otel with the same provider.
 */
import { type Attributes, ROOT_CONTEXT, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  type Span,
  type SpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { httpInstrumentationMiddleware } from "@hono/otel";
import type { MiddlewareHandler } from "hono";
import { redactUrl } from "../config/redact";
import type { Config } from "../config/schema";
import type { Observation, ObservationOf, ObservationType, Observer } from "./events";

type SamplerName = Config["telemetry"]["tracing"]["sampler"];

export interface TracingOptions {
  serviceName: string;
  serviceVersion: string;
  sampler: SamplerName;
  /** For the ratio samplers: the share of turns traced, 0..1. */
  samplerRatio: number;
  /** How long finished spans wait to be exported in one batch. */
  batchDelayMs: number;
  /** Where spans go: the OTLP/HTTP exporter (its URL), or a given exporter (tests: in-memory). */
  exporter: { url: string } | SpanExporter;
}

export interface Tracing {
  observer: TracingObserver;
  /** Traces each HTTP request (@hono/otel). */
  http: MiddlewareHandler;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export function startTracing(options: TracingOptions): Tracing {
  const exporter = "url" in options.exporter ? new OTLPTraceExporter({ url: options.exporter.url }) : options.exporter;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: options.serviceVersion }),
    sampler: samplerFor(options.sampler, options.samplerRatio),
    spanProcessors: [redactingUrls, new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.batchDelayMs })],
  });
  return {
    observer: new TracingObserver(provider.getTracer("morgan", options.serviceVersion)),
    http: httpInstrumentationMiddleware({ tracerProvider: provider, serviceName: options.serviceName, serviceVersion: options.serviceVersion }),
    shutdown: () => provider.shutdown(),
  };
}

/** @hono/otel records url.full with the query; a WebSocket's ?token= must not leave in a span. */
const redactingUrls: SpanProcessor = {
  onStart(span: Span) {
    const url = span.attributes["url.full"];
    if (typeof url === "string") span.setAttribute("url.full", redactUrl(url));
  },
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

function samplerFor(name: SamplerName, ratio: number): Sampler {
  const ratioSampler = new TraceIdRatioBasedSampler(ratio);
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratioSampler;
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratioSampler });
  }
}

/** When a stage first saw an event of the turn and last passed one on; `position` orders the chain. */
interface StageWindow {
  position: number;
  first: number;
  last: number;
}

interface TurnTrace {
  started: ObservationOf<"turn_started">;
  stages: Map<string, StageWindow>;
}

interface SessionTrace {
  /** The stages that saw the current utterance (events before its turn existed). */
  utterance: { number: number; stages: Map<string, StageWindow> };
  turns: Map<string, TurnTrace>;
}

/** Microphone audio flows all the time, so it is not observed: the events it causes (speech, transcripts) mark the work. */
export class TracingObserver implements Observer {
  readonly types: readonly ObservationType[] = ["stage_event", "turn_started", "turn_ended", "session_closed"];
  readonly #sessions = new Map<string, SessionTrace>();

  constructor(private readonly tracer: Tracer) {}

  observe(observation: Observation): void {
    switch (observation.type) {
      case "stage_event":
        return this.#stageEvent(observation);
      case "turn_started":
        return this.#turnStarted(observation);
      case "turn_ended":
        return this.#turnEnded(observation);
      case "session_closed":
        this.#sessions.delete(observation.sessionId);
    }
  }

  #session(sessionId: string): SessionTrace {
    let session = this.#sessions.get(sessionId);
    if (!session) {
      session = { utterance: { number: 0, stages: new Map() }, turns: new Map() };
      this.#sessions.set(sessionId, session);
    }
    return session;
  }

  #stageEvent(event: ObservationOf<"stage_event">): void {
    const session = this.#session(event.sessionId);
    let stages: Map<string, StageWindow> | undefined;
    if (event.turnId !== undefined) {
      stages = session.turns.get(event.turnId)?.stages;
    } else if (event.utterance !== undefined) {
      if (event.utterance !== session.utterance.number) session.utterance = { number: event.utterance, stages: new Map() };
      stages = session.utterance.stages;
    }
    if (!stages) return;
    // A stage's work begins with what it makes or what the stage before it made; passing an event on
    // before that is no work of its own.
    if (event.from !== "input" && (event.produced || stages.has(event.from))) touch(stages, event.from, event.position - 1, event.at);
    if (event.produced) touch(stages, event.to, event.position, event.at);
  }

  #turnStarted(started: ObservationOf<"turn_started">): void {
    const session = this.#session(started.sessionId);
    const stages = new Map<string, StageWindow>();
    if (session.utterance.number === started.utterance) {
      // The stages up to the one that started the turn worked on its utterance.
      for (const [name, window] of session.utterance.stages) if (window.position <= started.stagePosition) stages.set(name, window);
      session.utterance = { number: started.utterance, stages: new Map() };
    }
    session.turns.set(started.turnId, { started, stages });
  }

  #turnEnded(ended: ObservationOf<"turn_ended">): void {
    const session = this.#sessions.get(ended.sessionId);
    const turn = session?.turns.get(ended.turnId);
    if (!session || !turn) return;
    session.turns.delete(ended.turnId);
    const windows = [...turn.stages.entries()].sort(([, a], [, b]) => a.position - b.position);
    const lastPosition = Math.max(...windows.map(([, w]) => w.position));
    const start = Math.min(turn.started.at, ...windows.map(([, w]) => w.first));
    const span = this.tracer.startSpan("turn", { root: true, startTime: epochMs(start), attributes: turnAttributes(ended) }, ROOT_CONTEXT);
    if (ended.outcome === "failed") span.setStatus({ code: SpanStatusCode.ERROR, message: "the turn failed" });
    const parent = trace.setSpan(ROOT_CONTEXT, span);
    for (const [name, window] of windows) {
      // The last stage delivers the reply in real time: it works until the turn ends.
      const end = window.position === lastPosition ? Math.max(window.last, ended.at) : window.last;
      const attributes = { "morgan.stage.position": window.position, "morgan.turn_id": ended.turnId };
      this.tracer.startSpan(name, { startTime: epochMs(window.first), attributes }, parent).end(epochMs(end));
    }
    span.end(epochMs(ended.at));
  }
}

function touch(stages: Map<string, StageWindow>, stage: string, position: number, at: number): void {
  const window = stages.get(stage);
  if (!window) stages.set(stage, { position, first: at, last: at });
  else {
    window.first = Math.min(window.first, at);
    window.last = Math.max(window.last, at);
  }
}

function turnAttributes(turn: ObservationOf<"turn_ended">): Attributes {
  const attributes: Attributes = {
    "morgan.session_id": turn.sessionId,
    "morgan.conversation_id": turn.conversationId,
    "morgan.turn_id": turn.turnId,
    "morgan.turn.source": turn.source,
    "morgan.turn.outcome": turn.outcome,
  };
  for (const [name, value] of Object.entries(turn.latency)) if (value !== null) attributes[`morgan.latency.${name}`] = value;
  return attributes;
}

/** Observations carry performance.now(); spans take wall-clock milliseconds. */
function epochMs(at: number): number {
  return performance.timeOrigin + at;
}
