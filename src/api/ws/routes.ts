/**
 * The WebSocket endpoints — /ws/stream, /ws/stream/:user_id and the legacy /ws/audio, one protocol —
 * on Bun's native WebSocket server: the Hono route upgrades the request, and `websocket` (passed to
 * Bun.serve) feeds each socket's frames to its ClientConnection.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { Hono } from "hono";
import type { Logger } from "pino";
import { requestLogger } from "../../logging/index.ts";
import { SessionError, type SessionManager } from "../../pipeline/sessions";
import { LIMITS, SUBPROTOCOL } from "../../protocol/messages";
import type { Observers } from "../../telemetry/events";
import { offeredSubprotocols } from "../auth/credentials.ts";
import { forbidden } from "../auth/errors.ts";
import type { AuthVariables } from "../auth/middleware.ts";
import { actingUser, type Principal } from "../auth/principal.ts";
import { ClientConnection, type ConnectionOptions } from "./connection";

export interface SocketData {
  requestId: string;
  /** Who opened the socket (the upgrade request's credential, src/api/auth). */
  principal: Principal;
  pathUserId?: string;
  /** The client's address, counted against quotas.connectionsPerIp while the socket is open. */
  ip: string;
  connection?: ClientConnection;
}

export interface WebSocketDeps {
  sessions: SessionManager;
  log: Logger;
  observers: Observers;
  options: Omit<ConnectionOptions, "pathUserId" | "principal">;
  /** Open sockets allowed per client IP address (quotas.connectionsPerIp). */
  connectionsPerIp: number;
}

/** What a refused upgrade tells the client to wait before trying again, in seconds. */
const RETRY_AFTER_S = 5;

const USER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

export function webSocketEndpoints(deps: WebSocketDeps) {
  const connections = new Set<ClientConnection>();
  const perIp = new Map<string, number>();
  const release = (ip: string) => {
    const left = (perIp.get(ip) ?? 1) - 1;
    if (left > 0) perIp.set(ip, left);
    else perIp.delete(ip);
  };
  deps.observers.provide("active_connections", () => connections.size);
  const ticker = setInterval(() => {
    for (const connection of connections) connection.tick();
  }, 1000);
  ticker.unref?.();

  const upgrade = (request: Request, server: Server<SocketData> | undefined, principal: Principal, pathUserId?: string): Response | undefined => {
    if (pathUserId !== undefined && !USER_ID.test(pathUserId)) {
      const problem = { field: "user_id", problem: "use 1-128 letters, digits or _ . : @ -" };
      return Response.json({ error: "invalid_request", message: `user_id: ${problem.problem}`, problems: [problem] }, { status: 400 });
    }
    // Refused before the upgrade, so the client sees the HTTP status.
    if (pathUserId !== undefined && !actingUser(principal, pathUserId)) {
      throw forbidden(`this credential is for user ${principal.userId}, not ${pathUserId}`);
    }
    if (!server) throw new Error("WebSocket upgrade needs Bun's server in the request context");
    const ip = server.requestIP(request)?.address ?? "unknown";
    if ((perIp.get(ip) ?? 0) >= deps.connectionsPerIp) {
      return rateLimited(`this address already has ${deps.connectionsPerIp} WebSocket connections open, the most allowed; close one first`);
    }
    // The user and key this socket's sessions will count against: refused here with 429 when full.
    try {
      deps.sessions.checkQuota(actingUser(principal, pathUserId) ?? principal.userId, principal.keyId);
    } catch (error) {
      if (error instanceof SessionError) return rateLimited(error.message);
      throw error;
    }
    const data: SocketData = { requestId: crypto.randomUUID(), principal, pathUserId, ip };
    // Counted from here, not from `open`, so a burst of upgrades cannot overshoot the limit.
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    // A browser that offered morgan.v1 (beside its morgan.token.… credential) needs it selected back.
    const headers = offeredSubprotocols(request).includes(SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": SUBPROTOCOL } : undefined;
    if (server.upgrade(request, { data, headers })) return undefined;
    release(ip);
    return Response.json({ error: "upgrade_required", message: "this endpoint speaks WebSocket" }, { status: 426 });
  };

  const routes = new Hono<{ Bindings: { server?: Server<SocketData> }; Variables: AuthVariables }>();
  const handle = (c: { req: { raw: Request }; env: unknown; var: AuthVariables }, userId?: string) => {
    if (!c.var.principal) throw new Error("WebSocket upgrade without a principal: authenticate() is not mounted before the WebSocket routes");
    return upgrade(c.req.raw, serverOf(c.env), c.var.principal, userId) ?? new Response(null);
  };
  routes.get("/ws/stream", (c) => handle(c));
  routes.get("/ws/audio", (c) => handle(c));
  routes.get("/ws/stream/:user_id", (c) => handle(c, c.req.param("user_id")));

  const websocket: WebSocketHandler<SocketData> = {
    maxPayloadLength: LIMITS.maxFrameBytes,
    // Our own idle timeout (stream_timeout) closes with a clear code; Bun's stays out of the way.
    idleTimeout: 0,
    sendPings: false,
    open(ws) {
      const log = requestLogger(ws.data.requestId, deps.log);
      const options = { ...deps.options, pathUserId: ws.data.pathUserId, principal: ws.data.principal };
      const connection = new ClientConnection(socketOf(ws), deps.sessions, options, log, deps.observers);
      ws.data.connection = connection;
      connections.add(connection);
      deps.observers.observe({ type: "connection_opened" });
    },
    message(ws, message) {
      const connection = ws.data.connection;
      if (!connection) return;
      if (typeof message === "string") connection.onText(message);
      else connection.onBinary(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    },
    close(ws, code) {
      release(ws.data.ip);
      const connection = ws.data.connection;
      if (!connection) return;
      connections.delete(connection);
      deps.observers.observe({ type: "connection_closed", code });
      connection.onClose();
    },
  };

  /** Closes every socket with "going away"; sessions stay resumable elsewhere until they expire. */
  const shutdown = () => {
    clearInterval(ticker);
    for (const connection of connections) connection.shutdown();
  };

  return { routes, websocket, shutdown };
}

function serverOf(env: unknown): Server<SocketData> | undefined {
  // Bun passes the server as fetch's second argument, which Hono exposes as c.env.
  const candidate = env as Server<SocketData> | undefined;
  return candidate && typeof candidate.upgrade === "function" ? candidate : undefined;
}

function socketOf(ws: ServerWebSocket<SocketData>) {
  return {
    send: (data: string) => void ws.send(data),
    close: (code: number, reason: string) => ws.close(code, reason),
    ping: () => void ws.ping(),
    bufferedAmount: () => ws.getBufferedAmount(),
  };
}

/** 429 with Retry-After: a quota was exceeded (docs/security.md, "Quotas and abuse"). */
function rateLimited(message: string): Response {
  return Response.json({ error: "rate_limited", message }, { status: 429, headers: { "Retry-After": String(RETRY_AFTER_S) } });
}
