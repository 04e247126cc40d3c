/**
 * Where a credential travels: `Authorization: Bearer` (servers, REST and WebSocket); on a WebSocket
 * upgrade also the `morgan.token.<token>` subprotocol (browsers cannot set headers) or `?token=`
 * (last resort: URLs reach proxies' logs; Morgan's own logs and traces redact it).
 */
import { TOKEN_SUBPROTOCOL_PREFIX } from "../../protocol/messages.ts";

export const TOKEN_QUERY_PARAMETER = "token";

export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** The subprotocols a WebSocket client offered, in order. */
export function offeredSubprotocols(request: Request): string[] {
  return (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

export function credentialOf(request: Request): string | undefined {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1] : undefined;
  }
  if (!isWebSocketUpgrade(request)) return undefined;
  const fromProtocol = offeredSubprotocols(request).find((item) => item.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (fromProtocol) return fromProtocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length) || undefined;
  return new URL(request.url).searchParams.get(TOKEN_QUERY_PARAMETER) || undefined;
}
