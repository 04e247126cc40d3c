/** Opens real Storage for a test on one of the backends, and tears everything down afterwards. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../src/config/schema.ts";
import { openStorage, type Storage } from "../../src/storage/index.ts";
import { testConfig, silentLogger } from "./config.ts";
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from "./services.ts";

export type Backend = "postgres" | "pglite";

export interface TestStorage {
  storage: Storage;
  config: Config;
  database?: TestDatabase;
  redis?: Awaited<ReturnType<typeof requireRedis>>;
  close(): Promise<void>;
}

export interface TestStorageOptions {
  backend: Backend;
  /** Use the shared Redis (with a private key prefix); otherwise the in-process cache. */
  redis?: boolean;
  env?: Record<string, string>;
}

export async function openTestStorage(options: TestStorageOptions): Promise<TestStorage> {
  const env: Record<string, string> = { MORGAN_JOURNAL_DIR: mkdtempSync(join(tmpdir(), "morgan-journal-")), ...options.env };
  let database: TestDatabase | undefined;
  let redis: TestStorage["redis"];
  if (options.backend === "postgres") {
    database = await createTestDatabase();
    env.DATABASE_URL = database.url;
  } else {
    env.MORGAN_PGLITE_DIR = "memory://";
  }
  if (options.redis) {
    redis = await requireRedis();
    env.REDIS_URL = TEST_REDIS_URL;
    env.MORGAN_REDIS_KEY_PREFIX = redis.prefix;
  }
  const config = testConfig(env);
  const storage = await openStorage(config, silentLogger());
  return {
    storage,
    config,
    database,
    redis,
    close: async () => {
      await storage.close();
      await redis?.close();
      await database?.drop();
    },
  };
}
