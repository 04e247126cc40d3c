/**
 * Who is calling: what every credential (API key, JWT, client token, or nobody in mode none) turns
 * into. Routes and the WebSocket decide from this alone; quotas key on userId and keyId.
 */
export const SCOPES = ["user", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export type AuthMethod = "none" | "api_key" | "jwt" | "client_token";

export interface Principal {
  /** The user whose data this caller may touch (a JWT's `sub`, an API key's id, a client token's user). */
  userId: string;
  /** The API key behind the call (the key itself, or the key that minted a client token); never the secret. */
  keyId?: string;
  scopes: readonly Scope[];
  /** A client token bound to one conversation may touch only that one. */
  conversationId?: string;
  method: AuthMethod;
}

/** Mode none (loopback only): one trusted local caller, who may name any user as an admin can. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ userId: "anonymous", scopes: Object.freeze(["user", "admin"] as const), method: "none" });

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope);
}

/**
 * The user a request acts for: the caller's own, or — for an admin only — the one it names
 * (`?user_id=`, the WebSocket path or `start.user_id`). Undefined when the caller may not act for it.
 */
export function actingUser(principal: Principal, requested: string | undefined): string | undefined {
  if (requested === undefined || requested === principal.userId) return principal.userId;
  return hasScope(principal, "admin") ? requested : undefined;
}
