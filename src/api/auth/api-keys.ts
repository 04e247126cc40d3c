/**
 * API keys: `id:scope:secret` entries from the environment or a file. Only SHA-256 digests of the
 * secrets are kept, and a presented secret is compared against every key with timingSafeEqual, so
 * neither the match nor its position shows in the time taken.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../config/index.ts";
import type { Principal, Scope } from "./principal.ts";

export interface ApiKey {
  id: string;
  scope: Scope;
  digest: Buffer;
}

/** The id has no ":", so the first two colons end the id and the scope; the secret is the rest. */
const ENTRY = /^([A-Za-z0-9_.@-]{1,128}):(user|admin):([!-~]{32,})$/;

/** Thrown at start for a malformed entry; the message names the entry by position, never its secret. */
export class ApiKeyFormatError extends ConfigError {}

export function parseApiKeys(text: string, source: string): ApiKey[] {
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  const keys = entries.map((entry, index) => {
    const match = ENTRY.exec(entry);
    if (!match) {
      throw new ApiKeyFormatError(
        `${source}: entry ${index + 1} is not id:scope:secret (id of letters, digits, _ . @ -; scope user or admin; a secret of 32+ printable characters)`,
      );
    }
    return { id: match[1]!, scope: match[2] as Scope, digest: digest(match[3]!) };
  });
  const ids = new Set<string>();
  for (const key of keys) {
    if (ids.has(key.id)) throw new ApiKeyFormatError(`${source}: key id ${key.id} appears twice`);
    ids.add(key.id);
  }
  return keys;
}

export function loadApiKeys(settings: { apiKeys?: string; apiKeysFile?: string }): ApiKey[] {
  const keys = settings.apiKeys ? parseApiKeys(settings.apiKeys, "MORGAN_API_KEYS") : [];
  if (settings.apiKeysFile) {
    let text: string;
    try {
      text = readFileSync(settings.apiKeysFile, "utf8");
    } catch (error) {
      throw new ApiKeyFormatError(`auth.apiKeysFile ${settings.apiKeysFile}: not readable (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    keys.push(...parseApiKeys(text, settings.apiKeysFile));
  }
  return keys;
}

/** The key whose secret this is, checking every key in constant time; undefined when none matches. */
export function findApiKey(keys: readonly ApiKey[], secret: string): ApiKey | undefined {
  const presented = digest(secret);
  let found: ApiKey | undefined;
  for (const key of keys) {
    // No early exit: every key is compared, whatever matched.
    if (timingSafeEqual(key.digest, presented)) found = key;
  }
  return found;
}

/** A user key acts as the user its id names; an admin key may act for any user. */
export function apiKeyPrincipal(key: ApiKey): Principal {
  return { userId: key.id, keyId: key.id, scopes: key.scope === "admin" ? ["user", "admin"] : ["user"], method: "api_key" };
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}
