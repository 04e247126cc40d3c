import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, redactConfig } from "./index.ts";

function yamlFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "morgan-config-")), "core.yaml");
  writeFileSync(path, text);
  return path;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("loadConfig", () => {
  test("defaults match the design notes", () => {
    const config = loadConfig({ file: null, env: {} });
    expect(config.server.port).toBe(8000);
    expect(config.triton.url).toBe("127.0.0.1:8101");
    expect(config.triton.models).toEqual({ vad: "vad", stt: "stt", llm: "llm", tts: "tts", turn: "turn" });
    expect(config.streaming).toEqual({ enabled: true, chunkSize: 8192, timeoutS: 60, realTimeProcessing: true });
    expect(config.postgres.poolSize).toBe(10);
    expect(config.postgres.host).toBeUndefined();
    expect(config.redis.host).toBeUndefined();
  });

  test("the seed's flat yaml keys and nested sections are read", () => {
    const file = yamlFile(
      ["streaming_enabled: false", "stream_chunk_size: 4096", "stream_timeout: 30", "real_time_processing: false",
        "postgres_host: db", "postgres_port: 6543", "postgres_db: m", "postgres_user: u", "redis_host: cache", "redis_port: 6380",
        "server:", "  port: 9000", "cache:", "  ttlS:", "    session: 10"].join("\n"),
    );
    const config = loadConfig({ file, env: {} });
    expect(config.streaming).toEqual({ enabled: false, chunkSize: 4096, timeoutS: 30, realTimeProcessing: false });
    expect(config.postgres).toMatchObject({ host: "db", port: 6543, database: "m", user: "u" });
    expect(config.redis).toMatchObject({ host: "cache", port: 6380 });
    expect(config.server.port).toBe(9000);
    expect(config.cache.ttlS.session).toBe(10);
    expect(config.cache.ttlS.audioBuffer).toBe(300);
  });

  test("environment wins over the file", () => {
    const file = yamlFile("stream_chunk_size: 4096\nredis_host: cache\nserver:\n  port: 9000\n");
    const config = loadConfig({
      file,
      env: { MORGAN_STREAM_CHUNK_SIZE: "2048", REDIS_HOST: "other", PORT: "7000", MORGAN_STREAMING_ENABLED: "no", TRITON_URL: "tritonserver:8001", REDIS_PASSWORD: "" },
    });
    expect(config.streaming.chunkSize).toBe(2048);
    expect(config.streaming.enabled).toBe(false);
    expect(config.redis.host).toBe("other");
    expect(config.redis.password).toBeUndefined();
    expect(config.server.port).toBe(7000);
    expect(config.triton.url).toBe("tritonserver:8001");
  });

  test("MORGAN_CONFIG chooses the file, and a missing one is refused", () => {
    const file = yamlFile("server:\n  port: 8123\n");
    expect(loadConfig({ env: { MORGAN_CONFIG: file } }).server.port).toBe(8123);
    expect(refusal(() => loadConfig({ env: { MORGAN_CONFIG: "/nonexistent/core.yaml" } }))).toBe(
      'Invalid configuration: MORGAN_CONFIG = "/nonexistent/core.yaml": file not found',
    );
  });

  test("an invalid value is refused with one line naming key, source, value and expectation", () => {
    const message = refusal(() => loadConfig({ file: null, env: { POSTGRES_PORT: "54x32" } }));
    expect(message).toBe('Invalid configuration: postgres.port = "54x32" (from POSTGRES_PORT): expected an integer between 1 and 65535');
    expect(message).not.toContain("\n");
  });

  test("values from the file name the file and key", () => {
    const file = yamlFile("stream_chunk_size: tiny\n");
    expect(refusal(() => loadConfig({ file, env: {} }))).toBe(
      `Invalid configuration: streaming.chunkSize = "tiny" (from ${file} key stream_chunk_size): expected an integer between 256 and 1048576`,
    );
  });

  test("Redis Sentinel addresses come comma-separated from the environment, each one checked", () => {
    const config = loadConfig({ file: null, env: { REDIS_SENTINELS: "10.0.0.1:26379, sentinel-b:26380,[::1]:26381", REDIS_SENTINEL_NAME: "morgan" } });
    expect(config.redis.sentinels).toEqual(["10.0.0.1:26379", "sentinel-b:26380", "[::1]:26381"]);
    expect(config.redis.sentinelName).toBe("morgan");
    expect(loadConfig({ file: null, env: {} }).redis.sentinels).toEqual([]);
    const message = refusal(() => loadConfig({ file: null, env: { REDIS_SENTINELS: "10.0.0.1:26379,sentinel-b" } }));
    expect(message).toContain("redis.sentinels");
    expect(message).toContain("REDIS_SENTINELS");
    expect(message).toContain("host:port");
    expect(refusal(() => loadConfig({ file: null, env: { REDIS_SENTINELS: "a:70000" } }))).toContain("host:port");
    const secret = refusal(() => loadConfig({ file: null, env: { REDIS_SENTINEL_PASSWORD: "hunter2", REDIS_SENTINELS: "bad" } }));
    expect(secret).toContain("not host:port: bad");
    expect(secret).not.toContain("hunter2");
  });

  test("unknown settings are refused rather than ignored", () => {
    const file = yamlFile("server:\n  prot: 8000\n");
    expect(refusal(() => loadConfig({ file, env: {} }))).toBe(`Invalid configuration: server.prot (from ${file}): unknown setting`);
    expect(refusal(() => loadConfig({ file: yamlFile("colour: blue\n"), env: {} }))).toContain("colour");
  });

  test("pool size is capped at 20, booleans and enums are checked", () => {
    expect(refusal(() => loadConfig({ file: null, env: { MORGAN_POSTGRES_POOL_SIZE: "50" } }))).toContain("postgres.poolSize = \"50\"");
    expect(refusal(() => loadConfig({ file: null, env: { MORGAN_STREAMING_ENABLED: "maybe" } }))).toContain("expected true or false");
    expect(refusal(() => loadConfig({ file: null, env: { LOG_LEVEL: "loud" } }))).toContain("expected one of fatal, error");
    expect(refusal(() => loadConfig({ file: null, env: { TRITON_URL: "http://triton:8000" } }))).toContain("expected host:port");
  });

  test("secrets never appear in a refusal or in a dump", () => {
    const refused = refusal(() => loadConfig({ file: null, env: { DATABASE_URL: "mysql://admin:hunter2@db/x" } }));
    expect(refused).not.toContain("hunter2");
    expect(refused).toContain("postgres.url = [redacted] (from DATABASE_URL)");
    const config = loadConfig({
      file: null,
      env: { DATABASE_URL: "postgres://admin:hunter2@db:5432/x", REDIS_URL: "redis://:s3cret@cache:6379", POSTGRES_PASSWORD: "pw-value", REDIS_PASSWORD: "rpw" },
    });
    const dump = JSON.stringify(redactConfig(config));
    for (const secret of ["hunter2", "s3cret", "pw-value", "rpw"]) expect(dump).not.toContain(secret);
    expect(dump).toContain("postgres://admin:[redacted]@db:5432/x");
    expect(config.postgres.password).toBe("pw-value");
  });
});
