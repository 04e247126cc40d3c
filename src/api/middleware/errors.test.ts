import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { z } from "zod";
import { createApp, Lifecycle } from "../app.ts";
import type { Storage } from "../../storage/index.ts";
import { ConflictError, NotFoundError, StorageUnavailableError } from "../../storage/errors.ts";
import { startTelemetry } from "../../telemetry/index.ts";
import { capturingLogger, testConfig } from "../../../tests/helpers/config.ts";

function appWith(routes: Hono) {
  const { logger, lines } = capturingLogger("info");
  // These routes never touch storage; a stub keeps the test about error mapping only.
  const storage = {} as Storage;
  const config = testConfig();
  const telemetry = startTelemetry(config.telemetry, logger, "test");
  const { app } = createApp({ config, logger, storage, lifecycle: new Lifecycle(logger), telemetry }, { routes: [routes] });
  return { app, lines };
}

describe("global error handler", () => {
  const routes = new Hono()
    .get("/boom", () => {
      throw new Error("database password=hunter2 leaked?");
    })
    .get("/zod", () => {
      z.strictObject({ n: z.number() }).parse({ n: "x" });
      return new Response("unreachable");
    })
    .post("/json", async (c) => c.json(await c.req.json()))
    .get("/missing", () => {
      throw new NotFoundError("thing", "42");
    })
    .get("/conflict", () => {
      throw new ConflictError("taken");
    })
    .get("/away", () => {
      throw new StorageUnavailableError();
    });
  const { app, lines } = appWith(routes);

  test("an unexpected error is a 500 carrying the request id, logged with it, details kept out of the response", async () => {
    const response = await app.request("/boom", { headers: { "X-Request-Id": "req-500" } });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: string; requestId: string; message: string };
    expect(body).toEqual({ error: "internal_error", message: "internal error", requestId: "req-500" });
    const logged = lines.find((line) => line.msg === "unhandled error");
    expect(logged?.request_id).toBe("req-500");
  });

  test("client mistakes map to 4xx, storage outages to 503", async () => {
    const zod = await app.request("/zod");
    expect(zod.status).toBe(400);
    expect(((await zod.json()) as { problems: { field: string }[] }).problems[0]!.field).toBe("n");
    const json = await app.request("/json", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(json.status).toBe(400);
    expect((await app.request("/missing")).status).toBe(404);
    expect((await app.request("/conflict")).status).toBe(409);
    const away = await app.request("/away");
    expect(away.status).toBe(503);
    expect(away.headers.get("retry-after")).toBe("2");
  });
});
