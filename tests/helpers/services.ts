/**
 * Access to the real PostgreSQL and Redis for tests. Absent services fail the test loudly with the
 * command that starts them; nothing is skipped. Each test file gets its own database (created here,
 * dropped afterwards) and its own Redis key prefix, so files can run side by side on shared servers.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import postgres from "postgres";

export const ADMIN_POSTGRES_URL = process.env.MORGAN_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.MORGAN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const START_HINT = "start it with: scripts/services.sh start";

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates morgan_test_<random> on the shared server; throws (test fails) when PostgreSQL is absent. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = postgres(ADMIN_POSTGRES_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  const name = `morgan_test_${randomBytes(6).toString("hex")}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end({ timeout: 1 });
    throw new Error(`PostgreSQL is required at ${ADMIN_POSTGRES_URL} (${(error as Error).message}); ${START_HINT}`);
  }
  await admin.end({ timeout: 1 });
  const url = new URL(ADMIN_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(ADMIN_POSTGRES_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 1 });
      }
    },
  };
}

/** A unique key prefix for this test file, and a client to inspect or clean it. */
export async function requireRedis(): Promise<{ prefix: string; client: Redis; clear(): Promise<void>; close(): Promise<void> }> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: false });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis is required at ${TEST_REDIS_URL} (${(error as Error).message}); ${START_HINT}`);
  }
  const prefix = `morgan-test-${randomBytes(5).toString("hex")}:`;
  const clear = async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  };
  return { prefix, client, clear, close: async () => { await clear(); client.disconnect(); } };
}

/** A TCP port nothing listens on right now. */
export function sparePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
