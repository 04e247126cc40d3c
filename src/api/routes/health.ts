/**
 * GET /health (dependency report), GET /live (process up), GET /ready (migrations applied, not
 * stopping, and at least one Triton endpoint healthy).
 */
import type { AppHono, RouteContext } from "../context.ts";
import { type ProbeResult, timeProbe } from "../../storage/index.ts";

type TritonCheck = ProbeResult | { status: "unknown"; latencyMs: null };

export function registerHealthRoutes(app: AppHono, { services }: RouteContext): void {
  const startedAt = Date.now();

  app.get("/live", (c) => c.json({ status: "alive" }));

  app.get("/ready", (c) => {
    if (services.lifecycle.shuttingDown) return c.json({ status: "stopping" }, 503);
    if (!services.storage.isReady()) return c.json({ status: "starting", reason: "database migrations not applied yet" }, 503);
    const endpoints = services.tritonEndpoints?.();
    if (endpoints && !endpoints.some((e) => e.healthy)) return c.json({ status: "unavailable", reason: "no Triton endpoint is healthy" }, 503);
    return c.json({ status: "ready" });
  });

  app.get("/health", async (c) => {
    const [storage, triton] = await Promise.all([services.storage.health(), probeTriton(services)]);
    const redis = storage.redis.configured ? storage.redis : { ...storage.redis, status: "unconfigured" as const };
    const healthy = storage.postgres.status === "up" && redis.status !== "down" && triton.status !== "down";
    return c.json({
      status: services.lifecycle.shuttingDown ? "stopping" : healthy ? "ok" : "degraded",
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      storage: { database: storage.postgres.mode, cache: storage.redis.mode },
      checks: { postgres: storage.postgres, redis, triton: { ...triton, endpoints: services.tritonEndpoints?.() } },
    });
  });
}

async function probeTriton(services: RouteContext["services"]): Promise<TritonCheck> {
  const probe = services.probeTriton;
  if (!probe) return { status: "unknown", latencyMs: null };
  return timeProbe(async () => {
    if (!(await probe())) throw new Error("triton reports not ready");
  }, services.config.triton.timeouts.healthMs);
}

