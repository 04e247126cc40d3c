/**
 * jwt mode: tokens from the operator's identity provider. HS256 with a shared secret, or RS256/ES256
 * checked against a JWKS (a file, or a URL that jose fetches and caches). `sub` is the user; `exp`,
 * `iss` and `aud` are always checked; scope `morgan:admin` (in `scope` or `scp`) makes an admin.
 */
import { readFileSync } from "node:fs";
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { ConfigError } from "../../config/index.ts";
import type { Config } from "../../config/schema.ts";
import { unauthorized } from "./errors.ts";
import type { Principal, Scope } from "./principal.ts";

export const ADMIN_SCOPE_CLAIM = "morgan:admin";
/** Subjects become user ids: stored, logged by id and used in URLs, so they are bounded and printable. */
const SUBJECT = /^[!-~]{1,200}$/;

export type JwtVerifier = (token: string) => Promise<Principal>;

type JwtSettings = Config["auth"]["jwt"];

export function jwtVerifier(settings: JwtSettings): JwtVerifier {
  const options = {
    issuer: settings.issuer,
    audience: settings.audience,
    clockTolerance: settings.clockToleranceS,
    requiredClaims: ["exp", "sub"],
  };
  if (settings.secret) {
    const key = new TextEncoder().encode(settings.secret);
    return async (token) => principalOf(await verified(() => jwtVerify(token, key, { ...options, algorithms: ["HS256"] })));
  }
  const keys = settings.jwksFile ? localKeys(settings.jwksFile) : createRemoteJWKSet(new URL(settings.jwksUrl!));
  return async (token) => principalOf(await verified(() => jwtVerify(token, keys, { ...options, algorithms: ["RS256", "ES256"] })));
}

function localKeys(file: string): JWTVerifyGetKey {
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`auth.jwt.jwksFile ${file}: not a readable JSON Web Key Set (${error instanceof Error ? error.message : String(error)})`);
  }
  return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
}

/** Runs a jose verification; every way a token can be wrong becomes a 401 naming the reason. */
export async function verified(verify: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
  try {
    return (await verify()).payload;
  } catch (error) {
    throw unauthorized(`invalid token: ${reason(error)}`);
  }
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason === "missing" ? "missing" : "not accepted"}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm not accepted";
  if (error instanceof errors.JWKSNoMatchingKey) return "no matching key";
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return error.code === "ERR_JWKS_TIMEOUT" ? "key set unreachable" : "malformed";
  return "malformed";
}

function principalOf(payload: JWTPayload): Principal {
  if (!payload.sub || !SUBJECT.test(payload.sub)) throw unauthorized("invalid token: sub must be 1-200 printable characters");
  const scopes: Scope[] = grantedScopes(payload).includes(ADMIN_SCOPE_CLAIM) ? ["user", "admin"] : ["user"];
  return { userId: payload.sub, scopes, method: "jwt" };
}

function grantedScopes(payload: JWTPayload): string[] {
  const { scope, scp } = payload as { scope?: unknown; scp?: unknown };
  if (typeof scope === "string") return scope.split(" ");
  if (Array.isArray(scp)) return scp.filter((item): item is string => typeof item === "string");
  if (typeof scp === "string") return scp.split(" ");
  return [];
}
