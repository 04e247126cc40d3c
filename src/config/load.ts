/**
 * Builds the configuration from, later wins: schema defaults, config/core.yaml (or $MORGAN_CONFIG),
 * then the environment. Any invalid or unknown setting throws a ConfigError whose message is one line
 * naming the key, where it came from, the (redacted) value and what is expected.
 */
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { isSecretPath, REDACTED } from "./redact.ts";
import { configSchema, type Config } from "./schema.ts";
import { sections } from "./sections/index.ts";

export const DEFAULT_CONFIG_FILE = "config/core.yaml";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  /** Overrides $MORGAN_CONFIG and the default file; `null` reads no file. */
  file?: string | null;
}

type RawTree = Record<string, unknown>;
/** Where each dotted path got its value, for error messages. */
type Origins = Map<string, string>;

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const raw: RawTree = {};
  const origins: Origins = new Map();
  const file = chooseFile(options.file, env);
  if (file) applyFile(raw, origins, file);
  applyEnv(raw, origins, env);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, raw, origins));
  return result.data;
}

function chooseFile(explicit: string | null | undefined, env: LoadConfigOptions["env"] & object): string | null {
  if (explicit !== undefined) return explicit;
  const fromEnv = env.MORGAN_CONFIG?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ConfigError(`Invalid configuration: MORGAN_CONFIG = "${fromEnv}": file not found`);
    return fromEnv;
  }
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null;
}

function applyFile(raw: RawTree, origins: Origins, file: string): void {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`Invalid configuration: ${file}: not readable YAML (${reason})`);
  }
  if (parsed === null || parsed === undefined) return;
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`Invalid configuration: ${file}: expected a mapping of settings at the top level`);
  }
  for (const [key, value] of Object.entries(parsed as RawTree)) {
    const legacyPath = findLegacyPath(key);
    if (legacyPath) {
      setPath(raw, legacyPath, value);
      origins.set(legacyPath, `${file} key ${key}`);
    } else if (key in sections) {
      raw[key] = value;
      recordOrigins(origins, key, value, file);
    } else {
      throw new ConfigError(`Invalid configuration: ${key} (from ${file}): unknown setting; expected one of ${Object.keys(sections).join(", ")} or a legacy flat key`);
    }
  }
}

function findLegacyPath(key: string): string | undefined {
  for (const [name, section] of Object.entries(sections)) {
    const inner = section.legacyYamlKeys?.[key];
    if (inner) return `${name}.${inner}`;
  }
  return undefined;
}

function recordOrigins(origins: Origins, path: string, value: unknown, file: string): void {
  origins.set(path, file);
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) recordOrigins(origins, `${path}.${key}`, child, file);
  }
}

function applyEnv(raw: RawTree, origins: Origins, env: Record<string, string | undefined>): void {
  for (const [name, section] of Object.entries(sections)) {
    for (const [variable, inner] of Object.entries(section.env)) {
      const value = env[variable];
      if (value === undefined || value.trim() === "") continue;
      setPath(raw, `${name}.${inner}`, value.trim());
      origins.set(`${name}.${inner}`, variable);
    }
  }
}

function setPath(tree: RawTree, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== "object" || Array.isArray(next)) node[key] = {};
    node = node[key] as RawTree;
  }
  node[keys[keys.length - 1]!] = value;
}

function getPath(tree: RawTree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as RawTree)[key];
  }
  return node;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], raw: RawTree, origins: Origins): string {
  return `Invalid configuration: ${issues.map((issue) => describeIssue(issue, raw, origins)).join("; ")}`;
}

function describeIssue(issue: z.core.$ZodIssue, raw: RawTree, origins: Origins): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((key) => {
        const full = path ? `${path}.${key}` : key;
        return `${full}${originSuffix(origins, full)}: unknown setting`;
      })
      .join("; ");
  }
  const value = getPath(raw, path);
  const shown = isSecretPath(path) ? REDACTED : JSON.stringify(value);
  return `${path} = ${shown}${originSuffix(origins, path)}: ${issue.message}`;
}

function originSuffix(origins: Origins, path: string): string {
  const origin = origins.get(path);
  return origin ? ` (from ${origin})` : "";
}
