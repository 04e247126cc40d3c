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

  const authenticate = async (credential: string | undefined): Promise<Principal> => {
    if (!credential) throw unauthorized("credentials required: send Authorization: Bearer <API key or token> (docs/security.md)");
    // Every key is compared, whatever the credential looks like, so timing tells nothing about keys.
    const key = findApiKey(keys, credential);
    if (key) return apiKeyPrincipal(key);
    if (!looksLikeJwt(credential)) throw unauthorized("invalid credentials");
    if (minted && issuerOf(credential) === CLIENT_TOKEN_ISSUER) return minted.verify(credential);
    if (jwt) return jwt(credential);
    throw unauthorized("invalid credentials");
  };
  return { mode: settings.mode, authenticate, clientTokens: minted };
}

/** Three base64url segments: a JWS in compact form. */
function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/** The unverified `iss`, only to choose the verifier; the chosen one checks everything. */
function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}
