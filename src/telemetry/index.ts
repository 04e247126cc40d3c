/**
 * Morgan's telemetry, assembled from configuration: the observer seam every layer reports to, with
 * Prometheus metrics (unless switched off) and OpenTelemetry tracing (when the OTEL_* variables ask
 * for it) observing it.
 */
import type { Logger } from "pino";
import type { Config } from "../config/schema";
import { Observers } from "./events";
import { MetricsObserver } from "./metrics";
import { type Tracing, startTracing } from "./tracing";

export interface Telemetry {
  observers: Observers;
  /** Absent when telemetry.metrics.enabled is false. */
  metrics?: MetricsObserver;
  /** Absent unless tracing is switched on. */
  tracing?: Tracing;
  /** Exports the spans still buffered. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP URL spans go to, or undefined while tracing is off (the default). */
export function tracesUrl(tracing: Config["telemetry"]["tracing"]): string | undefined {
  if (tracing.sdkDisabled || tracing.exporter === "none") return undefined;
  if (tracing.tracesEndpoint) return tracing.tracesEndpoint;
  if (tracing.endpoint) return `${tracing.endpoint.replace(/\/+$/, "")}/v1/traces`;
  // OTEL_TRACES_EXPORTER=otlp alone: the specification's default collector address.
  return tracing.exporter === "otlp" ? "http://localhost:4318/v1/traces" : undefined;
}

export function startTelemetry(
  config: Config["telemetry"],
  logger: Logger,
  serviceVersion: string,
): Telemetry {
  const log = logger.child({ component: "telemetry" });
  const observers = new Observers((error) => log.error({ err: error }, "an observer failed"));
  const metrics = config.metrics.enabled ? new MetricsObserver(observers) : undefined;
  if (metrics) observers.add(metrics);
  const url = tracesUrl(config.tracing);
  const tracing = url ? startTracing({ ...config.tracing, serviceVersion, exporter: { url } }) : undefined;
  if (tracing) {
    observers.add(tracing.observer);
    log.info({ url, sampler: config.tracing.sampler }, "tracing on");
  }
  return { observers, metrics, tracing, shutdown: async () => tracing?.shutdown() };
}
