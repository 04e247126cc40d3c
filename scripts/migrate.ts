/**
 * `bun run db:migrate`: applies drizzle/ migrations to the configured database (PostgreSQL, or the
 * embedded PGlite directory when none is configured) and exits. The server also migrates on start.
 */
import { ConfigError, loadConfig, redactUrl } from "../src/config/index.ts";
import { openDatabase } from "../src/storage/db.ts";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const database = openDatabase(config.postgres);
  const target = database.mode === "postgres"
    ? config.postgres.url ? redactUrl(config.postgres.url) : `${config.postgres.host}:${config.postgres.port}/${config.postgres.database}`
    : config.postgres.pgliteDataDir;
  try {
    await database.migrate();
    console.log(`migrations applied (${database.mode}: ${target})`);
    return 0;
  } catch (error) {
    console.error(`migration failed (${database.mode}: ${target}): ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await database.close();
  }
}

process.exit(await main());
