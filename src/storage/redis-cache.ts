/** The Redis tier (ioredis). Commands fail fast while disconnected so the caller can fall back. */
import { Redis, type RedisOptions } from "ioredis";
import { splitHostPort } from "../config/fields.ts";
import type { Config } from "../config/schema.ts";
import type { CacheBackend, CacheValue, ListAppendOptions } from "./cache-backend.ts";

export function usesRedisServer(config: Config["redis"]): boolean {
  return Boolean(config.url ?? config.host) || config.sentinels.length > 0;
}

export function connectRedis(config: Config["redis"]): Redis {
  const options: RedisOptions = {
    keyPrefix: config.keyPrefix || undefined,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.connectTimeoutMs,
    // Fail at once instead of queueing while disconnected: the in-process tier serves meanwhile.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * attempt, config.maxReconnectDelayMs),
    lazyConnect: true,
  };
  if (config.sentinels.length > 0) {
    return new Redis({
      ...options,
      sentinels: config.sentinels.map(splitHostPort),
      name: config.sentinelName,
      sentinelPassword: config.sentinelPassword,
      password: config.password,
      db: config.db,
      // A command that reached the old primary after its demotion gets READONLY: reconnect, which
      // asks the Sentinels for the new primary.
      reconnectOnError: (error) => error.message.startsWith("READONLY"),
      sentinelRetryStrategy: (attempt) => Math.min(50 * attempt, config.maxReconnectDelayMs),
    });
  }
  if (config.url) return new Redis(config.url, options);
  return new Redis({ ...options, host: config.host, port: config.port, db: config.db, password: config.password });
}

/** Compare-and-set operations, each one atomic script (keys get ioredis's keyPrefix like any command). */
const SCRIPTS = {
  morganCounterAdvance: `
    local current = tonumber(redis.call('GET', KEYS[1]) or '0')
    local floor = tonumber(ARGV[1])
    if current < floor then current = floor end
    current = current + tonumber(ARGV[2])
    redis.call('SET', KEYS[1], current, 'EX', ARGV[3])
    return current`,
  morganTake: `
    local value = redis.call('GET', KEYS[1])
    if value then redis.call('DEL', KEYS[1]) end
    return value`,
  morganDeleteIfEquals: `
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0`,
  morganFieldReplaceIfEquals: `
    local raw = redis.call('GET', KEYS[1])
    local fields = raw and cjson.decode(raw) or {}
    local current = fields[ARGV[1]]
    if ARGV[2] == '1' then
      if current ~= ARGV[3] then return 0 end
    elseif current ~= nil then return 0 end
    fields[ARGV[1]] = ARGV[4]
    redis.call('SET', KEYS[1], cjson.encode(fields), 'EX', ARGV[5])
    return 1`,
  morganFieldDeleteIfEquals: `
    local raw = redis.call('GET', KEYS[1])
    if not raw then return 0 end
    local fields = cjson.decode(raw)
    if fields[ARGV[1]] ~= ARGV[2] then return 0 end
    fields[ARGV[1]] = nil
    if next(fields) == nil then redis.call('DEL', KEYS[1])
    else redis.call('SET', KEYS[1], cjson.encode(fields), 'KEEPTTL') end
    return 1`,
  morganExpireIfEquals: `
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
    return 0`,
} as const;

type ScriptCommands = { [K in keyof typeof SCRIPTS]: (key: string, ...args: (string | number)[]) => Promise<unknown> };

export class RedisCache implements CacheBackend {
  readonly #scripts: ScriptCommands;

  constructor(readonly client: Redis) {
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua });
    this.#scripts = client as unknown as ScriptCommands;
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlS: number): Promise<void> {
    await this.client.set(key, value, "EX", ttlS);
  }

  async delete(...keys: string[]): Promise<number> {
    return keys.length === 0 ? 0 : this.client.del(...keys);
  }

  async listAppend(key: string, values: CacheValue[], options: ListAppendOptions): Promise<number> {
    const items = values.map((value) => (typeof value === "string" ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)));
    const results = await this.client
      .multi()
      .rpush(key, ...items)
      .ltrim(key, -options.maxLength, -1)
      .expire(key, options.ttlS)
      .llen(key)
      .exec();
    return Number(checkedResults(results).at(-1));
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.client.lrange(key, start, stop);
  }

  async listRangeBytes(key: string, start: number, stop: number): Promise<Uint8Array[]> {
    const buffers = await this.client.lrangeBuffer(key, start, stop);
    return buffers.map((buffer) => new Uint8Array(buffer));
  }

  async ttlMs(key: string): Promise<number | null> {
    const ttl = await this.client.pttl(key);
    if (ttl === -2) return null;
    return ttl === -1 ? Number.POSITIVE_INFINITY : ttl;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async counterAdvance(key: string, floor: number, by: number, ttlS: number): Promise<number> {
    return Number(await this.#scripts.morganCounterAdvance(key, floor, by, ttlS));
  }

  async take(key: string): Promise<string | null> {
    return ((await this.#scripts.morganTake(key)) as string | null) ?? null;
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    return Number(await this.#scripts.morganDeleteIfEquals(key, value)) === 1;
  }

  async expireIfEquals(key: string, value: string, ttlS: number): Promise<boolean> {
    return Number(await this.#scripts.morganExpireIfEquals(key, value, ttlS)) === 1;
  }

  async fieldReplaceIfEquals(key: string, field: string, expected: string | null, value: string, ttlS: number): Promise<boolean> {
    const result = await this.#scripts.morganFieldReplaceIfEquals(key, field, expected === null ? "0" : "1", expected ?? "", value, ttlS);
    return Number(result) === 1;
  }

  async fieldDeleteIfEquals(key: string, field: string, value: string): Promise<boolean> {
    return Number(await this.#scripts.morganFieldDeleteIfEquals(key, field, value)) === 1;
  }
}

function checkedResults(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error("redis transaction aborted");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
