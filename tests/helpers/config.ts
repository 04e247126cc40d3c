/** Configs and loggers for tests: built through the real loader so tests exercise the schema too. */
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { loadConfig } from "../../src/config/index.ts";
import type { Config } from "../../src/config/schema.ts";

/** Defaults + `env` (no config file). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ file: null, env: { LOG_LEVEL: "silent", ...env } });
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** A logger whose JSON lines are collected in `lines`. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
