/**
 * The per-key session quota (quotas.sessionsPerKey) with real API keys: an admin key acting for
 * several users is held to its own total, refused with rate_limited on `start` and 429 on upgrade;
 * another key is unaffected.
 */
import { expect, test } from "bun:test";
import { TestClient } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";

const OPS = "o".repeat(40);
const OTHER = "p".repeat(40);
const server = useServer({
  env: {
    MORGAN_AUTH_MODE: "api_key",
    MORGAN_API_KEYS: `ops:admin:${OPS},other:admin:${OTHER}`,
    MORGAN_QUOTA_SESSIONS_PER_KEY: "2",
  },
});

function connect(key: string) {
  return TestClient.connect(`${server.wsUrl}/ws/stream`, { headers: { authorization: `Bearer ${key}` } });
}

async function start(client: TestClient, userId: string) {
  const from = client.received.length;
  client.send({ type: "start", data: { user_id: userId } });
  return Promise.race([client.next("session_started", { from }), client.next("error", { from })]);
}

test("one key's sessions, across the users it acts for, are capped; another key's are not", async () => {
  // Three sockets first: the third is refused at `start`; once the key is full, at the upgrade.
  const [a, b, c] = await Promise.all([connect(OPS), connect(OPS), connect(OPS)]);
  expect([(await start(a!, "user-a")).type, (await start(b!, "user-b")).type]).toEqual(["session_started", "session_started"]);
  const refused = await start(c!, "user-c");
  expect(refused).toMatchObject({ type: "error", data: { code: "rate_limited" } });
  expect(refused.type === "error" && refused.data.message).toMatch(/API key already has 2 sessions/);
  const upgrade = await fetch(`${server.url}/ws/stream`, {
    headers: { Authorization: `Bearer ${OPS}`, Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" },
  });
  expect(upgrade.status).toBe(429);
  expect(upgrade.headers.get("retry-after")).toBe("5");
  const other = await connect(OTHER);
  expect((await start(other, "user-c")).type).toBe("session_started");
  // Ending one of the key's sessions makes room again.
  a!.send({ type: "stop" });
  await a!.closed();
  expect((await start(c!, "user-c")).type).toBe("session_started");
  for (const client of [b!, c!, other]) client.close();
}, 60_000);
