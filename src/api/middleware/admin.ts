/**
 * The guard in front of operators' routes on the main port (/metrics, /v1/admin/*): the one place
 * that decides who is an operator. Until Morgan has authentication, only clients on the loopback
 * interface pass; everyone else gets 403. (The separate metrics port, telemetry.metrics.port, has no
 * guard: it is meant for a network only Prometheus reaches, as Triton's is.)
 */
import type { Server } from "bun";
import type { MiddlewareHandler } from "hono";

export function requireOperator(): MiddlewareHandler {
  return async (c, next) => {
    const address = (c.env as Server<unknown> | undefined)?.requestIP?.(c.req.raw)?.address;
    if (!address || !isLoopback(address)) {
      return c.json({ error: "forbidden", message: "operator routes answer only clients on the loopback interface until authentication is configured" }, 403);
    }
    await next();
  };
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
