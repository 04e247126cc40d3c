/** GET /openapi.json (REST and SSE) and GET /asyncapi.json (WebSocket), generated from the zod schemas at start. */
import packageJson from "../../../package.json" with { type: "json" };
import { asyncApiDocument } from "../docs/asyncapi.ts";
import { openApiDocument } from "../docs/openapi.ts";
import type { AppHono } from "../context.ts";

export function registerDocRoutes(app: AppHono): void {
  let documents: { openapi: Record<string, unknown>; asyncapi: Record<string, unknown> } | undefined;
  const load = () => (documents ??= { openapi: openApiDocument(packageJson.version), asyncapi: asyncApiDocument(packageJson.version) });
  app.get("/openapi.json", (c) => c.json(load().openapi));
  app.get("/asyncapi.json", (c) => c.json(load().asyncapi));
}
