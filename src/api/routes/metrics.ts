/** GET /metrics: Prometheus text format (docs/observability.md), for operators (admin scope); 404 when metrics are off. */
import { Hono } from "hono";
import type { MetricsObserver } from "../../telemetry/metrics.ts";
import type { AppHono, RouteContext } from "../context.ts";
import { requireScope } from "../auth/middleware.ts";

export function registerMetricsRoutes(app: AppHono, { services, auth }: RouteContext): void {
  const metrics = services.telemetry.metrics;
  if (!metrics) return;
  app.get("/metrics", requireScope("admin", auth), () => scrape(metrics));
}

/** The app of the separate metrics port (telemetry.metrics.port): /metrics and nothing else. */
export function metricsPortApp(metrics: MetricsObserver): Hono {
  const app = new Hono();
  app.get("/metrics", () => scrape(metrics));
  app.notFound((c) => c.json({ error: "not_found", message: "this port serves only GET /metrics" }, 404));
  return app;
}

async function scrape(metrics: MetricsObserver): Promise<Response> {
  return new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } });
}
