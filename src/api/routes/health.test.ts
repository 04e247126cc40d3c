import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openTestApp, type TestApp } from "../../../tests/helpers/app.ts";

interface HealthBody {
  status: string;
  storage: { database: string; cache: string };
  checks: Record<string, { status: string; latencyMs: number | null; mode?: string }>;
}

describe("health endpoints on PostgreSQL + Redis", () => {
  let app: TestApp;
  let tritonUp = true;
  beforeAll(async () => {
    app = await openTestApp({ backend: "postgres", redis: true, probeTriton: async () => tritonUp });
  });
  afterAll(async () => {
    await app?.close();
  });

  test("GET /health reports each dependency with latency and the storage modes", async () => {
    const response = await app.request("/health");
    expect(response.status).toBe(200);
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe("ok");
    expect(body.storage).toEqual({ database: "postgres", cache: "redis" });
    for (const name of ["postgres", "redis", "triton"]) {
      expect(body.checks[name]!.status).toBe("up");
      expect(body.checks[name]!.latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  test("a failing triton probe makes the service degraded", async () => {
    tritonUp = false;
    const body = (await (await app.request("/health")).json()) as HealthBody;
    tritonUp = true;
    expect(body.checks.triton!.status).toBe("down");
    expect(body.status).toBe("degraded");
  });

  test("/live is always up; /ready follows migrations and shutdown", async () => {
    expect((await app.request("/live")).status).toBe(200);
    expect((await app.request("/ready")).status).toBe(200);
    app.services.lifecycle.beginShutdown();
    const stopping = await app.request("/ready");
    expect(stopping.status).toBe(503);
    expect(await stopping.json()).toEqual({ status: "stopping" });
  });
});

describe("health endpoints on the embedded defaults", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await openTestApp({ backend: "pglite" });
  });
  afterAll(async () => {
    await app?.close();
  });

  test("reports pglite + memory and triton unknown when no probe is given", async () => {
    const body = (await (await app.request("/health")).json()) as HealthBody;
    expect(body.storage).toEqual({ database: "pglite", cache: "memory" });
    expect(body.checks.postgres).toMatchObject({ status: "up", mode: "pglite" });
    expect(body.checks.redis!.status).toBe("unconfigured");
    expect(body.checks.triton).toEqual({ status: "unknown", latencyMs: null });
    expect(body.status).toBe("ok");
  });
});
