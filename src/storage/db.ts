/**
 * The relational store: PostgreSQL through postgres.js when configured, otherwise embedded PGlite
 * persisted on disk. Both are driven through Drizzle (parameterised SQL only) and the same migrations.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { Config } from "../config/schema.ts";
import * as schema from "./schema.ts";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseMode = "postgres" | "pglite";

export interface DatabaseHandle {
  readonly mode: DatabaseMode;
  readonly db: Database;
  /** Applies pending migrations from drizzle/; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Resolves when a trivial query round-trips; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** An arbitrary constant: the advisory lock that serialises concurrent migrators. */
const MIGRATION_LOCK_KEY = 720_145_001;

export function usesPostgresServer(config: Config["postgres"]): boolean {
  return Boolean(config.url ?? config.host);
}

export function openDatabase(config: Config["postgres"]): DatabaseHandle {
  return usesPostgresServer(config) ? openPostgres(config) : openPglite(config.pgliteDataDir);
}

function postgresOptions(config: Config["postgres"], max: number): postgres.Options<Record<string, never>> {
  return {
    max,
    connect_timeout: config.connectTimeoutS,
    idle_timeout: 60,
    onnotice: () => {},
    ...(config.url
      ? {}
      : { host: config.host, port: config.port, database: config.database, username: config.user, password: config.password }),
  };
}

function connectPostgres(config: Config["postgres"], max: number): postgres.Sql {
  const options = postgresOptions(config, max);
  return config.url ? postgres(config.url, options) : postgres(options);
}

function openPostgres(config: Config["postgres"]): DatabaseHandle {
  const client = connectPostgres(config, config.poolSize);
  const db = drizzlePostgres(client, { schema }) as unknown as Database;
  return {
    mode: "postgres",
    db,
    migrate: () => migratePostgresLocked(config),
    ping: async () => {
      await client`select 1`;
    },
    // Called after the server stopped and hooks ran; postgres.js waits the whole timeout if a connection died, so keep it short.
    close: () => client.end({ timeout: 1 }),
  };
}

/** One dedicated connection holds a session advisory lock while migrating, so two starting processes don't race. */
async function migratePostgresLocked(config: Config["postgres"]): Promise<void> {
  const client = connectPostgres(config, 1);
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

function openPglite(dataDir: string): DatabaseHandle {
  const inMemory = dataDir.startsWith("memory://");
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    mode: "pglite",
    db,
    migrate: async () => {
      await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "ERR_SOCKET_CLOSED",
  "ConnectionRefused",
  "ConnectionClosed",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

/**
 * True when `error` means "PostgreSQL could not be reached" (retry later) rather than "this statement
 * is wrong" (retrying will not help). Drizzle wraps driver errors, so the cause chain is walked.
 */
export function isConnectionError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_ERROR_CODES.has(code) || code.startsWith("08"))) return true;
    const message = (current as { message?: unknown }).message;
    if (typeof message === "string" && /connection (refused|closed|terminated|ended)|socket|write after end/i.test(message)) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The SQLSTATE of a driver error anywhere in the cause chain (e.g. "23505" unique_violation). */
export function sqlState(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
