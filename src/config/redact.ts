/** Removes secrets from anything that may be printed: config dumps, log lines, error messages. */
import { secretPaths } from "./schema.ts";

export const REDACTED = "[redacted]";

/** Query parameters that carry credentials (the WebSocket's `?token=`, docs/security.md). */
const CREDENTIAL_PARAMETERS = /([?&](?:token|access_token|api_key)=)[^&#]*/gi;

/**
 * postgres://user:pw@host/db -> postgres://user:[redacted]@host/db, and ?token=… -> ?token=[redacted];
 * anything else is returned unchanged.
 */
export function redactUrl(value: string): string {
  return redactPassword(value.replace(CREDENTIAL_PARAMETERS, `$1${REDACTED}`));
}

function redactPassword(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = "REDACTED";
    return url.toString().replace(":REDACTED@", `:${REDACTED}@`);
  } catch {
    return value;
  }
}

/** A copy of `config` with every secret setting replaced; URLs keep everything but their password. */
export function redactConfig<T>(config: T): T {
  return redactAt(config, "") as T;
}

function redactAt(value: unknown, path: string): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    if (!secretPaths.has(path) || value === undefined) return value;
    return typeof value === "string" && /^[a-z]+:\/\//i.test(value) ? redactUrl(value) : REDACTED;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) copy[key] = redactAt(child, path ? `${path}.${key}` : key);
  return copy;
}

/** True when the setting at `path` is a secret whose value must not appear in messages. */
export function isSecretPath(path: string): boolean {
  return secretPaths.has(path);
}
