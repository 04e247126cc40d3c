/** The server as a process: refuses bad configuration, serves, and stops cleanly on SIGTERM/SIGINT. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { startMorgan } from "../src/main.ts";
import { testConfig } from "./helpers/config.ts";
import { createTestDatabase, requireRedis, sparePort, TEST_REDIS_URL, type TestDatabase, waitFor } from "./helpers/services.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");

function spawnServer(env: Record<string, string>) {
  return Bun.spawn([process.execPath, MAIN], {
    cwd: join(import.meta.dir, ".."),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

describe("invalid configuration", () => {
  test("stops start-up with one line naming the key, value and expectation", async () => {
    const server = spawnServer({ POSTGRES_PORT: "not-a-port", MORGAN_PGLITE_DIR: "memory://" });
    const [code, stderr, stdout] = await Promise.all([server.exited, new Response(server.stderr).text(), new Response(server.stdout).text()]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trim()).toBe('Invalid configuration: postgres.port = "not-a-port" (from POSTGRES_PORT): expected an integer between 1 and 65535');
  });

  test("a secret in an invalid URL is not echoed", async () => {
    const server = spawnServer({ REDIS_URL: "http://user:hunter2@cache:6379" });
    const [code, stderr] = await Promise.all([server.exited, new Response(server.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr).toContain("redis.url = [redacted] (from REDIS_URL)");
    expect(stderr).not.toContain("hunter2");
  });
});

describe("graceful shutdown of a spawned server", () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof requireRedis>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await requireRedis();
  });
  afterAll(async () => {
    await redis?.close();
    await database?.drop();
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal}: stops accepting, closes storage, exits 0`, async () => {
      const port = sparePort();
      const server = spawnServer({
        PORT: String(port),
        // Trust auth ignores the password; it is here to prove it never reaches the logs.
        DATABASE_URL: database.url.replace("postgres@", "postgres:topsecret-pw@"),
        REDIS_URL: TEST_REDIS_URL,
        MORGAN_REDIS_KEY_PREFIX: redis.prefix,
        MORGAN_JOURNAL_DIR: mkdtempSync(join(tmpdir(), "morgan-proc-")),
        LOG_LEVEL: "info",
      });
      const stdoutText = new Response(server.stdout).text();
      await waitFor(() => answers(`http://127.0.0.1:${port}/ready`), 20_000, "the spawned server to be ready");
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { storage: unknown };
      expect(health.storage).toEqual({ database: "postgres", cache: "redis" });
      server.kill(signal);
      expect(await server.exited).toBe(0);
      const logLines = (await stdoutText).trim().split("\n").map((line) => JSON.parse(line) as { msg: string; clean?: boolean; config?: unknown });
      expect(logLines.find((line) => line.msg === "stopped")?.clean).toBe(true);
      expect(JSON.stringify(logLines.find((line) => line.msg === "configuration loaded"))).toContain("postgres://postgres:[redacted]@");
      expect(JSON.stringify(logLines)).not.toContain("topsecret-pw");
      expect(await answers(`http://127.0.0.1:${port}/live`)).toBe(false);
    }, 40_000);
  }
});

describe("graceful shutdown in process", () => {
  test("in-flight requests finish, hooks run newest first, then storage closes", async () => {
    const port = sparePort();
    const config = testConfig({ PORT: String(port), MORGAN_PGLITE_DIR: "memory://", MORGAN_HOST: "127.0.0.1" });
    const order: string[] = [];
    const slow = new Hono().get("/slow", async (c) => {
      await Bun.sleep(400);
      order.push("slow request done");
      return c.text("finished");
    });
    const morgan = await startMorgan({ config, extend: () => ({ routes: [slow] }) });
    morgan.services.lifecycle.onShutdown("first", async () => void order.push("hook first"));
    morgan.services.lifecycle.onShutdown("second", async () => {
      await Bun.sleep(50);
      order.push("hook second");
    });
    const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
    await Bun.sleep(100);
    const clean = await morgan.shutdown("test");
    const response = await inFlight;
    expect(clean).toBe(true);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("finished");
    expect(order.indexOf("hook second")).toBeLessThan(order.indexOf("hook first"));
    expect(order).toContain("slow request done");
    expect(await answers(`http://127.0.0.1:${port}/live`)).toBe(false);
    expect(await morgan.shutdown("again")).toBe(true);
  }, 30_000);
});
