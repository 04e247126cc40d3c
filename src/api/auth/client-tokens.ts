/**
 * Ephemeral client tokens (POST /v1/auth/client-token): an app's backend, holding an API key, mints
 * a short-lived HS256 JWT for one of its users (and optionally one conversation) and hands it to the
 * browser, which never sees a long-lived key.
 */
import { randomUUID } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { unauthorized } from "./errors.ts";
import { verified } from "./jwt.ts";
import type { Principal } from "./principal.ts";

/** Marks Morgan's own tokens, so they are told apart from an identity provider's. */
export const CLIENT_TOKEN_ISSUER = "morgan";
const AUDIENCE = "morgan:client";
const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ClientTokenRequest {
  userId: string;
  conversationId?: string;
  ttlS: number;
  /** The API key that asked for it, carried into the token for quotas and logs. */
  keyId?: string;
}

export interface ClientTokens {
  mint(request: ClientTokenRequest, now?: number): Promise<{ token: string; expiresAt: Date }>;
  verify(token: string): Promise<Principal>;
}

export function clientTokens(secret: string): ClientTokens {
  const key = new TextEncoder().encode(secret);
  return {
    async mint(request, now = Date.now()) {
      const issuedAt = Math.floor(now / 1000);
      const expiresAt = issuedAt + request.ttlS;
      const claims: Record<string, string> = {};
      if (request.conversationId) claims.cid = request.conversationId;
      if (request.keyId) claims.kid = request.keyId;
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(CLIENT_TOKEN_ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(request.userId)
        .setJti(randomUUID())
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(key);
      return { token, expiresAt: new Date(expiresAt * 1000) };
    },
    async verify(token) {
      const payload = await verified(() =>
        jwtVerify(token, key, { issuer: CLIENT_TOKEN_ISSUER, audience: AUDIENCE, algorithms: ["HS256"], requiredClaims: ["exp", "sub"] }),
      );
      const { sub, cid, kid } = payload as { sub: string; cid?: unknown; kid?: unknown };
      if (cid !== undefined && (typeof cid !== "string" || !CONVERSATION_ID.test(cid))) throw unauthorized("invalid token: cid is not a conversation id");
      return {
        userId: sub,
        keyId: typeof kid === "string" ? kid : undefined,
        scopes: ["user"],
        conversationId: cid as string | undefined,
        method: "client_token",
      };
    },
  };
}
