/**
 * Turns a presented credential into a Principal, per auth.mode:
 *   none     everyone is the one local caller (the server listens on loopback only);
 *   api_key  an API key;
 *   jwt      a token from the operator's identity provider (or an API key, when keys are set).
 * Morgan's own client tokens are accepted beside either, when auth.clientTokens.secret is set.
 */
import { decodeJwt } from "jose";
import type { Config } from "../../config/schema.ts";
import { apiKeyPrincipal, findApiKey, loadApiKeys } from "./api-keys.ts";
import { CLIENT_TOKEN_ISSUER, type ClientTokens, clientTokens } from "./client-tokens.ts";
import { unauthorized } from "./errors.ts";
import { jwtVerifier } from "./jwt.ts";
import { LOCAL_PRINCIPAL, type Principal } from "./principal.ts";

export interface Authenticator {
  readonly mode: Config["auth"]["mode"];
  /** The caller behind `credential` (undefined when none was sent); throws AuthError 401. */
  authenticate(credential: string | undefined): Promise<Principal>;
  /** Mints client tokens; undefined when auth.clientTokens.secret is unset (or in mode none). */
  readonly clientTokens?: ClientTokens;
}

export function createAuthenticator(settings: Config["auth"]): Authenticator {
  if (settings.mode === "none") return { mode: "none", authenticate: async () => LOCAL_PRINCIPAL };
  const keys = loadApiKeys(settings);
  const jwt = settings.mode === "jwt" ? jwtVerifier(settings.jwt) : undefined;
  const minted = settings.clientTokens.secret ? clientTokens(settings.clientTokens.secret) : undefined;

  const recent = new VerifiedTokens();
  const verifyToken = async (token: string): Promise<Principal> => {
    const cached = recent.get(token);
    if (cached) return cached;
    const claims = unverifiedClaims(token);
    let principal: Principal;
    if (minted && claims.iss === CLIENT_TOKEN_ISSUER) principal = await minted.verify(token);
    else if (jwt) principal = await jwt(token);
    else throw unauthorized("invalid credentials");
    recent.add(token, principal, (claims.exp ?? 0) * 1000);
    return principal;
  };

  const authenticate = async (credential: string | undefined): Promise<Principal> => {
    if (!credential) throw unauthorized("credentials required: send Authorization: Bearer <API key or token> (docs/security.md)");
    // Every key is compared, whatever the credential looks like, so timing tells nothing about keys.
    const key = findApiKey(keys, credential);
    if (key) return apiKeyPrincipal(key);
    if (!looksLikeJwt(credential)) throw unauthorized("invalid credentials");
    return verifyToken(credential);
  };
  return { mode: settings.mode, authenticate, clientTokens: minted };
}

/** Three base64url segments: a JWS in compact form. */
function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/** The unverified claims, only to choose the verifier and bound the cache; the verifier checks everything. */
function unverifiedClaims(token: string): { iss?: string; exp?: number } {
  try {
    return decodeJwt(token);
  } catch {
    return {};
  }
}

/**
 * Tokens already verified, until they expire (at most a minute): a browser's token arrives on every
 * REST request, and checking its signature each time is most of what authentication costs. Keyed by
 * the whole token, which only its signer can produce; bounded, oldest out first.
 */
class VerifiedTokens {
  static readonly MAX_ENTRIES = 10_000;
  static readonly MAX_AGE_MS = 60_000;
  readonly #entries = new Map<string, { principal: Principal; until: number }>();

  get(token: string, now = Date.now()): Principal | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (entry.until > now) return entry.principal;
    this.#entries.delete(token);
    return undefined;
  }

  add(token: string, principal: Principal, expiresAt: number, now = Date.now()): void {
    const until = Math.min(expiresAt, now + VerifiedTokens.MAX_AGE_MS);
    if (until <= now) return;
    if (this.#entries.size >= VerifiedTokens.MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, { principal, until });
  }
}
