/**
 * Requests per minute to the HTTP API (hono-rate-limiter), per caller: the API key (or the user of a
 * token) when there is a credential, the client's IP address otherwise. Over it: 429 with
 * Retry-After and `{"error":"rate_limited"}`. WebSockets have their own quotas (src/api/ws); health,
 * metrics, docs and the web page are not counted.
 */
import type { Context, MiddlewareHandler } from "hono";
import { rateLimiter } from "hono-rate-limiter";
import type { AuthVariables } from "../auth/middleware.ts";

const WINDOW_MS = 60_000;
/** The seed's model routes, beside /v1/*. */
const SEED_ROUTES = new Set(["/generate", "/stream", "/generate/stream"]);

type RateLimited = { Variables: AuthVariables };

export function httpRateLimit(requestsPerMinute: number): MiddlewareHandler<RateLimited> {
  return rateLimiter<RateLimited>({
    windowMs: WINDOW_MS,
    limit: requestsPerMinute,
    standardHeaders: "draft-7",
    skip: (c) => !(c.req.path.startsWith("/v1/") || SEED_ROUTES.has(c.req.path)),
    keyGenerator: (c) => callerKey(c),
    handler: (c) =>
      c.json({ error: "rate_limited", message: `more than ${requestsPerMinute} requests per minute from this caller (quotas.httpRequestsPerMinute); retry after the time in Retry-After` }, 429),
  });
}

function callerKey(c: Context<RateLimited>): string {
  const principal = c.var.principal;
  if (principal && principal.method !== "none") return `caller:${principal.keyId ?? principal.userId}`;
  return `ip:${clientIp(c)}`;
}

function clientIp(c: Context): string {
  // Under Bun.serve the server is fetch's second argument (c.env); in-process requests have none.
  const server = c.env as { requestIP?: (request: Request) => { address: string } | null } | undefined;
  return (typeof server?.requestIP === "function" ? server.requestIP(c.req.raw)?.address : undefined) ?? "unknown";
}
