/**
 * POST /v1/auth/client-token: an app's backend, with its API key (or any credential but a client
 * token), gets a short-lived token for one user — and optionally one conversation — to hand to a
 * browser. Served when auth.clientTokens.secret is set.
 */
import { z } from "zod";
import { forbidden } from "../auth/errors.ts";
import { principalOf } from "../auth/middleware.ts";
import { actingUser } from "../auth/principal.ts";
import type { AppHono, RouteContext } from "../context.ts";
import { integerParam, parseInput } from "../middleware/validate.ts";

export const ClientTokenBody = z.strictObject({
  /** Defaults to the caller's user; another user needs the admin scope. */
  user_id: z.string().regex(/^[!-~]{1,200}$/, { error: "expected 1-200 printable characters" }).optional(),
  /** Bind the token to this conversation: it may then start, resume and read only this one. */
  conversation_id: z.uuid({ error: "expected a UUID" }).optional(),
  /** Lifetime in seconds (10 to auth.clientTokens.maxTtlS; default auth.clientTokens.ttlS). */
  ttl_s: z.number().int().min(10).optional(),
});
export const ClientTokenResult = z.object({ token: z.string(), expires_at: z.iso.datetime(), user_id: z.string(), conversation_id: z.uuid().optional() });

export function registerAuthRoutes(app: AppHono, { services, auth }: RouteContext): void {
  const minter = auth.clientTokens;
  if (!minter) return;
  const { ttlS, maxTtlS } = services.config.auth.clientTokens;
  const body = ClientTokenBody.extend({ ttl_s: integerParam(10, maxTtlS, "seconds").optional() });

  app.post("/v1/auth/client-token", async (c) => {
    const principal = principalOf(c);
    // A token minting its own successors would outlive its expiry.
    if (principal.method === "client_token") throw forbidden("a client token cannot mint client tokens; use an API key");
    const text = await c.req.text();
    const request = parseInput(body, text.trim() ? JSON.parse(text) : {});
    const userId = actingUser(principal, request.user_id);
    if (!userId) throw forbidden(`this credential may mint tokens only for user ${principal.userId}; minting for others needs the admin scope`);
    const { token, expiresAt } = await minter.mint({ userId, conversationId: request.conversation_id, ttlS: request.ttl_s ?? ttlS, keyId: principal.keyId });
    return c.json({ token, expires_at: expiresAt.toISOString(), user_id: userId, ...(request.conversation_id ? { conversation_id: request.conversation_id } : {}) }, 201);
  });
}
