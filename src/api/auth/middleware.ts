/**
 * The HTTP side of authentication, in the order app.ts mounts it: CORS for allowed origins, the
 * Origin check, then the credential → Principal step (c.var.principal). Scope checks for single
 * routes follow (requireScope).
 */
import type { Server } from "bun";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { REQUEST_ID_HEADER } from "../middleware/request-context.ts";
import type { Authenticator } from "./authenticator.ts";
import { credentialOf } from "./credentials.ts";
import { AuthError, forbidden } from "./errors.ts";
import { hasScope, type Principal, type Scope } from "./principal.ts";
import { isPublicRoute } from "./public-routes.ts";

export interface AuthVariables {
  /** Set on every route but the public ones (src/api/auth/public-routes.ts). */
  principal?: Principal;
}

/** CORS answers only for allowed origins; others get no Access-Control headers, so browsers refuse. */
export function corsForAllowedOrigins(allowed: readonly string[]): MiddlewareHandler {
  return cors({
    origin: (origin) => (allowed.includes(origin) ? origin : null),
    allowHeaders: ["Authorization", "Content-Type", REQUEST_ID_HEADER],
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    exposeHeaders: [REQUEST_ID_HEADER, "Retry-After"],
    maxAge: 600,
  });
}

/**
 * A browser's request from another site is refused (403) unless its origin is allowed. Same-origin
 * pages (Origin's host = Host) and callers without Origin (servers, curl) pass.
 */
export function checkOrigin(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowed.includes(origin) && !sameOrigin(origin, c.req.header("host"))) {
      throw new AuthError(403, "forbidden_origin", `origin ${origin.slice(0, 100)} is not allowed (auth.allowedOrigins, MORGAN_ALLOWED_ORIGINS)`);
    }
    await next();
  };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

export function authenticate(authenticator: Authenticator): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    if (!isPublicRoute(c.req.method, c.req.path)) c.set("principal", await authenticator.authenticate(credentialOf(c.req.raw)));
    await next();
  };
}

/** The caller of a route behind authenticate(); a route reached without it is a wiring mistake. */
export function principalOf(c: Context): Principal {
  const principal = (c.var as AuthVariables).principal;
  if (!principal) throw new Error(`no principal on ${c.req.path}: the route is public or authenticate() is not mounted`);
  return principal;
}

/**
 * A route needing a scope (`admin` for operators' routes). In mode none, where there are no
 * credentials, operators' routes keep the interim guard: the caller must be on the loopback interface.
 */
export function requireScope(scope: Scope, authenticator: Pick<Authenticator, "mode">): MiddlewareHandler {
  return async (c, next) => {
    const principal = principalOf(c);
    if (!hasScope(principal, scope)) throw forbidden(`this route needs the ${scope} scope`);
    if (authenticator.mode === "none" && !isLoopbackClient(c)) {
      throw forbidden("without authentication (auth.mode none) operator routes answer only clients on the loopback interface");
    }
    await next();
  };
}

function isLoopbackClient(c: Context): boolean {
  const address = (c.env as Server<unknown> | undefined)?.requestIP?.(c.req.raw)?.address;
  return !!address && (address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127."));
}
