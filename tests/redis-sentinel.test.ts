/**
 * Redis high availability: Debian's redis-server and redis-sentinel (scripts/redis-ha.sh) run a primary,
 * a replica and three Sentinels on private ports. Morgan is configured with REDIS_SENTINELS only; the
 * primary is killed (-9) while sessions write, and Morgan carries on: no call fails, the Sentinels promote
 * the replica, and Morgan writes to the new primary without a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { openStorage, redisKeys, type Storage } from "../src/storage/index.ts";
import { capturingLogger, testConfig } from "./helpers/config.ts";

const ROOT = join(import.meta.dir, "..");
// The brief's private ranges (6400-6420, 26379-26399), apart from scripts/cluster.sh's defaults.
const DATA_PORTS = [6410, 6411];
const SENTINEL_PORTS = [26390, 26391, 26392];
const dir = mkdtempSync(join(tmpdir(), "morgan-redis-ha-"));
const env = {
  ...process.env,
  REDIS_HA_DIR: dir,
  REDIS_HA_PORTS: DATA_PORTS.join(" "),
  REDIS_HA_SENTINEL_PORTS: SENTINEL_PORTS.join(" "),
  REDIS_HA_NAME: "morgan-test",
};

async function redisHa(command: string): Promise<string> {
  const child = Bun.spawn(["bash", join(ROOT, "scripts/redis-ha.sh"), command], { env, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`scripts/redis-ha.sh ${command} failed (${code}): ${out}${err}`);
  return out.trim();
}

describe("Redis Sentinel: the primary fails under load", () => {
  let storage: Storage;
  const { logger, lines } = capturingLogger("info");

  beforeAll(async () => {
    await redisHa("start");
    const config = testConfig({
      MORGAN_PGLITE_DIR: "memory://",
      REDIS_SENTINELS: SENTINEL_PORTS.map((port) => `127.0.0.1:${port}`).join(","),
      REDIS_SENTINEL_NAME: "morgan-test",
      MORGAN_REDIS_MAX_RECONNECT_DELAY_MS: "100",
      MORGAN_REDIS_CONNECT_TIMEOUT_MS: "500",
    });
    storage = await openStorage(config, logger);
  }, 60_000);

  afterAll(async () => {
    await storage?.close();
    await redisHa("stop");
    rmSync(dir, { recursive: true, force: true });
  });

  test("sessions keep working through the failover, and Morgan follows the new primary", async () => {
    expect(storage.cache.mode).toBe("redis");
    expect(await redisHa("primary")).toBe(`127.0.0.1:${DATA_PORTS[0]}`);
    const sessions = storage.sessionCache;
    const conversation = await storage.conversations.createConversation({ userId: "sentinel" });

    // Ten sessions write their state and one conversation grows, every 20 ms, until told to stop.
    let running = true;
    let writes = 0;
    let appended = 0;
    const failures: unknown[] = [];
    const load = Array.from({ length: 10 }, async (_, index) => {
      for (let step = 0; running; step++) {
        try {
          await sessions.setState(`session-${index}`, { step });
          if (index === 0) {
            await storage.conversations.appendMessage(conversation.id, { role: "user", content: `message ${step}` });
            appended++;
          }
          writes++;
        } catch (error) {
          failures.push(error);
        }
        await Bun.sleep(20);
      }
    });

    await Bun.sleep(500);
    const killedAt = performance.now();
    const killedPort = await redisHa("kill-primary");
    expect(killedPort).toBe(String(DATA_PORTS[0]));
    await storage.cache.waitForMode("memory", 5_000);
    await storage.cache.waitForMode("redis", 20_000);
    const disruptionMs = performance.now() - killedAt;
    const writesAtReturn = writes;
    await Bun.sleep(500);
    running = false;
    await Promise.all(load);

    // No caller saw a failure; writes went on throughout (the in-process tier served meanwhile).
    expect(failures).toEqual([]);
    expect(writes).toBeGreaterThan(writesAtReturn);
    expect(await redisHa("primary")).toBe(`127.0.0.1:${DATA_PORTS[1]}`);

    // What the sessions wrote after the failover is on the new primary.
    const direct = new Redis({ port: DATA_PORTS[1]!, host: "127.0.0.1" });
    try {
      const state = JSON.parse((await direct.get(redisKeys.session("session-3")))!);
      expect(state).toEqual(await sessions.getState("session-3"));
      expect((await direct.call("role")) as unknown[]).toContain("master");
    } finally {
      direct.disconnect();
    }
    // Every acknowledged message is stored once, in order.
    const messages = (await storage.conversations.listMessages(conversation.id, { limit: 1000 })).items;
    expect(messages.map((message) => message.content)).toEqual(Array.from({ length: appended }, (_, step) => `message ${step}`));
    expect(lines.some((line) => line.msg === "redis available; serving from redis")).toBe(true);
    console.log(`redis sentinel failover (kill -9 of the primary): Morgan back on Redis after ${disruptionMs.toFixed(0)} ms; ${writes} writes, 0 failed`);
  }, 60_000);
});
