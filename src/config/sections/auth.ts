import { z } from "zod";
import { intField, optionalText, optionalUrl } from "../fields.ts";
import { defineSection } from "../section.ts";

export const AUTH_MODES = ["none", "api_key", "jwt"] as const;
/** Shortest accepted HMAC secret: HS256 wants at least its 256-bit output. */
export const MIN_SECRET_LENGTH = 32;

/** A comma-separated list from the environment, or a YAML list; empty by default. */
function listField() {
  return z
    .preprocess(
      (value) => (typeof value === "string" ? value.split(",").map((item) => item.trim()).filter(Boolean) : value),
      z.array(z.string({ error: "expected a list of strings" }).min(1), { error: "expected a list (comma-separated in the environment)" }),
    )
    .default([]);
}

function secretField(what: string) {
  return z
    .string({ error: "expected a string" })
    .min(MIN_SECRET_LENGTH, { error: `${what} must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 48)` })
    .optional();
}

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value;
  } catch {
    return false;
  }
}, { error: "expected origins written as scheme://host[:port], without a path or trailing slash" });

/**
 * Who may call Morgan (docs/security.md). `none` is only accepted while server.host is a loopback
 * address (checked in src/config/schema.ts, since it spans two sections).
 */
export const authSection = defineSection({
  schema: z
    .strictObject({
      mode: z.enum(AUTH_MODES, { error: `expected one of ${AUTH_MODES.join(", ")}` }).default("none"),
      /** `id:scope:secret` entries, comma- or newline-separated; scope is `user` or `admin`. */
      apiKeys: optionalText(),
      /** A file of the same entries, one a line (# comments allowed); read at start. */
      apiKeysFile: optionalText(),
      jwt: z
        .strictObject({
          /** HS256 shared secret. */
          secret: secretField("auth.jwt.secret"),
          /** A JWKS document on disk (RS256/ES256 public keys). */
          jwksFile: optionalText(),
          /** A JWKS URL, fetched and cached (RS256/ES256 public keys). */
          jwksUrl: optionalUrl(["http", "https"]),
          /** Required `iss`. */
          issuer: optionalText(),
          /** Required `aud`. */
          audience: optionalText(),
          /** Allowed clock skew when checking exp/nbf. */
          clockToleranceS: intField(0, 300, 30),
        })
        .prefault({}),
      clientTokens: z
        .strictObject({
          /** Signs the short-lived tokens of POST /v1/auth/client-token (HS256); unset = endpoint off. */
          secret: secretField("auth.clientTokens.secret"),
          /** Lifetime when the caller asks for none. */
          ttlS: intField(10, 86_400, 300),
          /** Longest lifetime a caller may ask for. */
          maxTtlS: intField(10, 86_400, 3600),
        })
        .prefault({}),
      /** Browser origins allowed cross-origin (WebSocket Origin and CORS); same-origin always works. */
      allowedOrigins: listField().pipe(z.array(origin)),
    })
    .prefault({})
    .superRefine((auth, context) => {
      if (auth.mode === "api_key" && !auth.apiKeys && !auth.apiKeysFile) {
        context.addIssue({ code: "custom", path: ["mode"], message: "api_key mode needs keys: set auth.apiKeys (MORGAN_API_KEYS) or auth.apiKeysFile (MORGAN_API_KEYS_FILE)" });
      }
      if (auth.mode === "jwt") {
        const sources = [auth.jwt.secret, auth.jwt.jwksFile, auth.jwt.jwksUrl].filter(Boolean).length;
        if (sources !== 1) {
          context.addIssue({ code: "custom", path: ["mode"], message: "jwt mode needs exactly one of auth.jwt.secret (MORGAN_JWT_SECRET), auth.jwt.jwksFile (MORGAN_JWT_JWKS_FILE) or auth.jwt.jwksUrl (MORGAN_JWT_JWKS_URL)" });
        }
        if (!auth.jwt.issuer || !auth.jwt.audience) {
          context.addIssue({ code: "custom", path: ["mode"], message: "jwt mode needs auth.jwt.issuer (MORGAN_JWT_ISSUER) and auth.jwt.audience (MORGAN_JWT_AUDIENCE)" });
        }
      }
      if (auth.clientTokens.ttlS > auth.clientTokens.maxTtlS) {
        context.addIssue({ code: "custom", path: ["clientTokens", "ttlS"], message: "must not exceed auth.clientTokens.maxTtlS" });
      }
    }),
  env: {
    MORGAN_AUTH_MODE: "mode",
    MORGAN_API_KEYS: "apiKeys",
    MORGAN_API_KEYS_FILE: "apiKeysFile",
    MORGAN_JWT_SECRET: "jwt.secret",
    MORGAN_JWT_JWKS_FILE: "jwt.jwksFile",
    MORGAN_JWT_JWKS_URL: "jwt.jwksUrl",
    MORGAN_JWT_ISSUER: "jwt.issuer",
    MORGAN_JWT_AUDIENCE: "jwt.audience",
    MORGAN_JWT_CLOCK_TOLERANCE_S: "jwt.clockToleranceS",
    MORGAN_CLIENT_TOKEN_SECRET: "clientTokens.secret",
    MORGAN_CLIENT_TOKEN_TTL_S: "clientTokens.ttlS",
    MORGAN_CLIENT_TOKEN_MAX_TTL_S: "clientTokens.maxTtlS",
    MORGAN_ALLOWED_ORIGINS: "allowedOrigins",
  },
  secrets: ["apiKeys", "jwt.secret", "clientTokens.secret"],
});
