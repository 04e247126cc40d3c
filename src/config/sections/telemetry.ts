import { z } from "zod";
import { boolField, intField, numberField, optionalUrl, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

const SAMPLERS = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"] as const;

/**
 * Prometheus metrics (docs/observability.md) and OpenTelemetry tracing. Tracing reads the standard
 * OTEL_* variables: it is off unless OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint is set, and
 * OTEL_SDK_DISABLED=true turns it off whatever else is set.
 */
export const telemetrySection = defineSection({
  schema: z
    .strictObject({
      metrics: z
        .strictObject({
          /** Serve /metrics and keep the counters; off removes the cost entirely. */
          enabled: boolField(true),
          /** Also serve /metrics on this port (on server.host), as Triton does; 0 = only on server.port. */
          port: intField(0, 65535, 0),
        })
        .prefault({}),
      tracing: z
        .strictObject({
          sdkDisabled: boolField(false),
          exporter: z.enum(["otlp", "none"], { error: "expected otlp or none" }).optional(),
          /** OTLP/HTTP base URL; spans go to {endpoint}/v1/traces. */
          endpoint: optionalUrl(["http", "https"]),
          /** The full URL for spans; wins over endpoint. */
          tracesEndpoint: optionalUrl(["http", "https"]),
          serviceName: textField("morgan"),
          sampler: z.enum(SAMPLERS, { error: `expected one of ${SAMPLERS.join(", ")}` }).default("parentbased_always_on"),
          samplerRatio: numberField(0, 1, 1),
          /** Finished spans are exported in batches, at most this long after they end. */
          batchDelayMs: intField(10, 600_000, 5_000),
        })
        .prefault({}),
    })
    .prefault({}),
  env: {
    MORGAN_METRICS_ENABLED: "metrics.enabled",
    MORGAN_METRICS_PORT: "metrics.port",
    OTEL_SDK_DISABLED: "tracing.sdkDisabled",
    OTEL_TRACES_EXPORTER: "tracing.exporter",
    OTEL_EXPORTER_OTLP_ENDPOINT: "tracing.endpoint",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "tracing.tracesEndpoint",
    OTEL_SERVICE_NAME: "tracing.serviceName",
    OTEL_TRACES_SAMPLER: "tracing.sampler",
    OTEL_TRACES_SAMPLER_ARG: "tracing.samplerRatio",
    OTEL_BSP_SCHEDULE_DELAY: "tracing.batchDelayMs",
  },
});
