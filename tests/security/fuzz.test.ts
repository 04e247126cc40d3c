/**
 * CI-sized fuzz of the WebSocket protocol against the real server (the 100,000-frame run is
 * bench/scenarios/fuzz.ts): a few thousand frames of random bytes, wrong types for every field of
 * every client message, forged resumes and oversize frames. Every frame is answered as the
 * protocol says, the server never crashes, and afterwards it still serves a normal session.
 */
import { expect, test } from "bun:test";
import { TestClient } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";
import { CLIENT_TYPES, fieldPaths, runFuzz } from "./support/fuzz";

const server = useServer();
const SEED = Number(process.env.MORGAN_FUZZ_SEED ?? 12);

test("the fuzzer derives a field list for every client message from its schema", () => {
  expect(CLIENT_TYPES.length).toBe(10);
  expect(fieldPaths("start")).toContain("vad.threshold");
  expect(fieldPaths("resume")).toEqual(["session_id", "resume_token", "last_seq"]);
  expect(fieldPaths("text")).toEqual(["text"]);
});

test(`3,000 fuzzed frames (seed ${SEED}): every one answered, no crash, and a normal session afterwards`, async () => {
  const stats = await runFuzz({ wsUrl: server.wsUrl, frames: 3000, seed: SEED, lanes: 3 });
  expect(stats.frames).toBe(3000);
  expect(stats.unanswered).toEqual([]);
  expect(stats.answered).toBe(3000);
  expect(stats.wrongAnswers).toBe(0);
  expect(stats.outsideProtocol).toBe(0);
  expect(stats.sessions).toBeGreaterThan(3);
  // Oversize frames closed with 1009 and forged resumes with 4002, each on its own connection.
  expect(stats.closes["1009"]).toBeGreaterThan(0);
  expect(stats.closes["4002"]).toBeGreaterThan(0);

  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
  const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  client.send({ type: "start", data: { max_response_tokens: 8 } });
  await client.next("session_started");
  client.send({ type: "text", data: { text: "Hello after the fuzz" } });
  const complete = await client.next("response_complete", { timeoutMs: 60_000 });
  expect(complete.data.text.length).toBeGreaterThan(0);
  client.close();
  expect(server.logs()).not.toMatch(/"level":"fatal"|uncaught|unhandled/i);
}, 300_000);
