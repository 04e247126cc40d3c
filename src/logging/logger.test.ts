import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { createLogger, requestLogger, sessionLogger } from "./index.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, logger: createLogger({ level: "info", pretty: false }, stream) };
}

describe("logging", () => {
  test("writes JSON lines with level label and ISO time", () => {
    const { lines, logger } = capture();
    logger.info({ x: 1 }, "hello");
    expect(lines[0]).toMatchObject({ level: "info", msg: "hello", x: 1, service: "morgan" });
    expect(String(lines[0]!.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  test("session and request children stamp their id on every line", () => {
    const { lines, logger } = capture();
    const session = sessionLogger("sess-1", logger);
    session.info("a");
    session.child({ stage: "stt" }).warn("b");
    requestLogger("req-9", logger).info("c");
    expect(lines.map((line) => line.session_id)).toEqual(["sess-1", "sess-1", undefined]);
    expect(lines[2]!.request_id).toBe("req-9");
  });

  test("secrets are censored by field name and URL credentials removed", () => {
    const { lines, logger } = capture();
    logger.info({ password: "hunter2", postgres: { password: "pw2" }, url: "postgres://u:topsecret@h/db" }, "connect");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("pw2");
    expect(text).not.toContain("topsecret");
    expect(lines[0]!.password).toBe("[redacted]");
  });

  test("a credential in a logged URL's query (the WebSocket's ?token=) is censored, and so are Authorization headers", () => {
    const { lines, logger } = capture();
    logger.info({ url: "http://h:8000/ws/stream?token=eyJ.secret.sig&a=1", req: { headers: { authorization: "Bearer k-secret" } } }, "upgrade");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain("secret");
    expect(lines[0]!.url).toBe("http://h:8000/ws/stream?token=[redacted]&a=1");
  });

  test("a failed query is logged without its parameters, which hold users' words", () => {
    const { lines, logger } = capture();
    const cause = Object.assign(new Error("invalid byte sequence for encoding \"UTF8\": 0x00"), { code: "22021" });
    const error = new DrizzleQueryError("insert into messages (content) values ($1)", ["my bank PIN is 4711"], cause);
    logger.error({ err: error }, "storing the user's message failed");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain("4711");
    // What an operator needs stays: the statement and the database's reason.
    expect(text).toContain("insert into messages");
    expect(text).toContain("22021");
  });

  test("level filters lines", () => {
    const { lines, logger } = capture();
    logger.debug("hidden");
    expect(lines).toHaveLength(0);
  });
});

test("pretty mode builds a human-readable logger (development)", () => {
  const logger = createLogger({ level: "silent", pretty: true });
  expect(typeof logger.info).toBe("function");
  expect(logger.level).toBe("silent");
});
