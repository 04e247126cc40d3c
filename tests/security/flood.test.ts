/**
 * Issue 12, defect 5: one session's flood of texts used to stall every session (10,000 queued row
 * writes; other sessions' pings p95 4 s). Now it is shed at its source. Pass/fail with generous
 * bounds here — the flooder is answered rate_limited, the other session's pings are all answered and
 * its turns complete; the p95 figure is measured in bench/scenarios/flood.ts.
 */
import { expect, test } from "bun:test";
import { TestClient } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";

const server = useServer();
const TEXTS = 5000;

test(`one session floods ${TEXTS} texts: it is rate-limited, and another session's pings and turns go on`, async () => {
  const flooder = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  flooder.send({ type: "start", data: { max_response_tokens: 8 } });
  await flooder.next("session_started");
  const other = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  other.send({ type: "start", data: { max_response_tokens: 8 } });
  await other.next("session_started");

  const json = JSON.stringify({ type: "text", data: { text: "Say something." } });
  for (let i = 0; i < TEXTS; i++) flooder.sendRaw(json);

  // The other session pings every 20 ms for 5 s and takes a turn meanwhile.
  const rtts: number[] = [];
  const pinging = (async () => {
    for (let i = 0; i < 250; i++) {
      const from = other.received.length;
      const sent = performance.now();
      other.send({ type: "ping", data: { timestamp: i } });
      await other.next("pong", { from, where: (m) => m.data.timestamp === i, timeoutMs: 5000 });
      rtts.push(performance.now() - sent);
      await Bun.sleep(20);
    }
  })();
  const from = other.received.length;
  other.send({ type: "text", data: { text: "What is two plus two?" } });
  const complete = await other.next("response_complete", { from, timeoutMs: 90_000 });
  expect(complete.data.text.length).toBeGreaterThan(0);
  await pinging;
  expect(rtts.length).toBe(250);
  // Generous (a loaded 2-core CI machine): no ping waits seconds, as they did before the quotas.
  expect(Math.max(...rtts)).toBeLessThan(2000);

  const limited = () => flooder.all("error").filter((e) => e.data.code === "rate_limited").length;
  // All but the bucket's burst (and the few its rate refills meanwhile) are refused at once.
  await flooder.next("error", { where: () => limited() >= TEXTS - 50, timeoutMs: 30_000 });
  expect(limited()).toBeGreaterThanOrEqual(TEXTS - 50);
  expect(flooder.closeEvent).toBeUndefined();
  // The texts it did take did not pile up row writes: the conversation holds a few turns, not thousands.
  const rows = await server.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages`;
  expect(rows[0]!.n).toBeLessThan(200);
  other.close();
  flooder.close();
}, 180_000);
