/**
 * Runs the real Morgan server as a child process for end-to-end tests, on a fresh PostgreSQL
 * database, the shared Redis and the running Triton. Fails loudly when a service is missing.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll } from "bun:test";
import postgres from "postgres";

const ROOT = join(import.meta.dir, "../../..");
const PG_ADMIN_URL = process.env.MORGAN_TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.MORGAN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
export const TRITON_URL = process.env.TRITON_URL ?? "127.0.0.1:8101";

export interface RunningServer {
  url: string;
  wsUrl: string;
  port: number;
  databaseUrl: string;
  /** A postgres.js client on the server's database, for checking rows. */
  sql: postgres.Sql;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export async function createDatabase(): Promise<string> {
  const name = `morgan_e2e_${randomBytes(6).toString("hex")}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (error) {
    throw new Error(`PostgreSQL at ${PG_ADMIN_URL} is needed for this test (run scripts/services.sh start): ${error}`);
  } finally {
    await admin.end();
  }
  return PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

export async function dropDatabase(url: string): Promise<void> {
  const name = url.slice(url.lastIndexOf("/") + 1);
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function startServer(options: { port?: number; env?: Record<string, string>; databaseUrl?: string } = {}): Promise<RunningServer> {
  const port = options.port ?? (await freePort());
  const databaseUrl = options.databaseUrl ?? (await createDatabase());
  let output = "";
  const child = Bun.spawn(["bun", "run", join(ROOT, "src/main.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      TRITON_URL,
      LOG_LEVEL: process.env.MORGAN_TEST_LOG_LEVEL ?? "info",
      MORGAN_LOG_PRETTY: "false",
      ...options.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += new TextDecoder().decode(chunk);
  };
  void collect(child.stdout);
  void collect(child.stderr);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Morgan exited with ${child.exitCode} during start-up:\n${output.slice(-4000)}`);
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`Morgan was not ready within 60 s:\n${output.slice(-4000)}`);
    }
    await Bun.sleep(100);
  }
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    databaseUrl,
    sql,
    logs: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      child.kill(signal);
      const code = await child.exited;
      await sql.end();
      if (!options.databaseUrl) await dropDatabase(databaseUrl);
      return code;
    },
  };
}

/**
 * Runs one server for the tests of the calling file: started before them, stopped after. The
 * returned object is filled in when the server is up, so tests use it as they run.
 */
export function useServer(options: Parameters<typeof startServer>[0] = {}): RunningServer {
  const server = {} as RunningServer;
  beforeAll(async () => {
    Object.assign(server, await startServer(options));
  }, 120_000);
  afterAll(async () => {
    await server.stop?.();
  }, 60_000);
  return server;
}
