/**
 * Gives every request an id (the caller's X-Request-Id when it is sane, else a new UUID), echoes it
 * in the response, and a child logger that stamps it on every line logged for the request.
 */
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import { requestLogger } from "../../logging/index.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestVariables {
  requestId: string;
  log: Logger;
}

export function requestContext(logger: Logger): MiddlewareHandler<{ Variables: RequestVariables }> {
  return async (c, next) => {
    const offered = c.req.header(REQUEST_ID_HEADER);
    const requestId = offered && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    const log = requestLogger(requestId, logger);
    c.set("requestId", requestId);
    c.set("log", log);
    const started = performance.now();
    await next();
    c.header(REQUEST_ID_HEADER, requestId);
    log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, "request");
  };
}
