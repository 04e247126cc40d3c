/**
 * Quotas against the real server, set small here so they are reached quickly: each is answered
 * with a clear error (rate_limited on the WebSocket, 429 with Retry-After on an upgrade), and the
 * client over it is the only one held back.
 */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";

const server = useServer({
  env: {
    MORGAN_QUOTA_CONNECTIONS_PER_IP: "6",
    MORGAN_QUOTA_SESSIONS_PER_USER: "2",
    MORGAN_QUOTA_TURNS_PER_SECOND: "1",
    MORGAN_QUOTA_TURN_BURST: "3",
    MORGAN_QUOTA_HTTP_REQUESTS_PER_MINUTE: "5",
  },
});

async function start(path = "/ws/stream", data: Record<string, unknown> = {}) {
  const client = await TestClient.connect(`${server.wsUrl}${path}`);
  client.send({ type: "start", data: { max_response_tokens: 8, ...data } });
  return { client, answer: await Promise.race([client.next("session_started"), client.next("error")]) };
}

describe("quotas", () => {
  test("sessions per user: a third start is refused with rate_limited, an upgrade for that user with 429; another user is unaffected", async () => {
    const one = await start("/ws/stream", { user_id: "quota-user" });
    const two = await start("/ws/stream", { user_id: "quota-user" });
    expect([one.answer.type, two.answer.type]).toEqual(["session_started", "session_started"]);
    const three = await start("/ws/stream", { user_id: "quota-user" });
    expect(three.answer).toMatchObject({ type: "error", data: { code: "rate_limited" } });
    expect(three.answer.type === "error" && three.answer.data.message).toMatch(/already has 2 sessions/);
    const upgrade = await fetch(`${server.url}/ws/stream/quota-user`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } });
    expect(upgrade.status).toBe(429);
    expect(Number(upgrade.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await upgrade.json()) as object).toMatchObject({ error: "rate_limited" });
    const other = await start("/ws/stream", { user_id: "someone-else" });
    expect(other.answer.type).toBe("session_started");
    // Stopping one frees a place.
    one.client.send({ type: "stop" });
    await one.client.closed();
    const again = await start("/ws/stream", { user_id: "quota-user" });
    expect(again.answer.type).toBe("session_started");
    for (const c of [two, three, other, again]) c.client.close();
    await Promise.all([two, three, other, again].map((c) => c.client.closed()));
  }, 60_000);

  test("sessions per user: starts sent at the same moment cannot overshoot the quota", async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(`${server.wsUrl}/ws/stream`)));
    for (const client of clients) client.send({ type: "start", data: { user_id: "racer" } });
    const answers = await Promise.all(clients.map((c) => Promise.race([c.next("session_started"), c.next("error")])));
    expect(answers.filter((a) => a.type === "session_started").length).toBe(2);
    expect(answers.filter((a) => a.type === "error" && a.data.code === "rate_limited").length).toBe(3);
    for (const client of clients) client.close();
    await Promise.all(clients.map((c) => c.closed()));
  }, 60_000);

  test("connections per IP: one over the limit is refused with 429 and Retry-After", async () => {
    const open = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(`${server.wsUrl}/ws/stream`)));
    const refused = new WebSocket(`${server.wsUrl}/ws/stream`);
    const outcome = await new Promise<string>((resolve) => {
      refused.addEventListener("open", () => resolve("open"));
      refused.addEventListener("error", () => resolve("refused"));
    });
    expect(outcome).toBe("refused");
    const upgrade = await fetch(`${server.url}/ws/stream`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } });
    expect(upgrade.status).toBe(429);
    expect(upgrade.headers.get("retry-after")).toBe("5");
    // Closing one lets the next in.
    open[0]!.close();
    await open[0]!.closed();
    const next = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    next.send({ type: "ping", data: { timestamp: 3 } });
    await next.next("pong");
    for (const c of [...open.slice(1), next]) c.close();
    await Promise.all([...open.slice(1), next].map((c) => c.closed()));
  }, 60_000);

  test("turns per second: a burst past the bucket is answered rate_limited, the socket stays open, and later turns go through", async () => {
    const { client } = await start();
    const from = client.received.length;
    for (let i = 0; i < 10; i++) client.send({ type: "text", data: { text: `Question ${i}?` } });
    await client.next("error", { from, where: (m) => m.data.code === "rate_limited" });
    await Bun.sleep(300);
    const limited = client.received.slice(from).filter((m) => m.type === "error" && m.data.code === "rate_limited");
    expect(limited.length).toBe(7);
    expect(limited[0]!.type === "error" && limited[0]!.data.message).toMatch(/turns per second.*retry in \d+ ms/);
    expect(client.closeEvent).toBeUndefined();
    // The last accepted question is answered.
    await client.next("response_complete", { from, timeoutMs: 60_000 });
    await Bun.sleep(1100);
    const later = client.received.length;
    client.send({ type: "text", data: { text: "One more?" } });
    await client.next("response_complete", { from: later, timeoutMs: 60_000 });
    expect(client.received.slice(later).filter((m) => m.type === "error")).toEqual([]);
    client.close();
  }, 120_000);

  test("HTTP requests per minute: the one over the limit gets 429 with Retry-After; health and the WebSocket are not counted", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${server.url}/v1/conversations?user_id=http-user`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await fetch(`${server.url}/v1/conversations?user_id=http-user`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await refused.json()) as object).toMatchObject({ error: "rate_limited" });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.send({ type: "ping", data: { timestamp: 5 } });
    await client.next("pong");
    client.close();
  });
});
