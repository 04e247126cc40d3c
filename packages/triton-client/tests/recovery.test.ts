/**
 * Triton dying mid-stream and coming back, with the real server: waiting
 * requests must fail fast with a clear retryable error, and the same client
 * must work again once Triton is back on the same port.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GrpcStatus, TritonClient, TritonError } from "@triton-client";
import { drain, eventually, readRepeat, repeatRequest } from "./fixtures";
import { TritonServer } from "./triton-server";

/** Upper bound for "fails promptly": far below any hang, generous for a loaded CI box. */
const FAILURE_BOUND_MS = 3_000;

let server: TritonServer;
let client: TritonClient;

beforeAll(async () => {
  server = await TritonServer.start();
  client = new TritonClient({ url: server.grpcUrl });
}, 90_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
});

test("Triton killed mid-stream: every waiting request fails promptly and retryably; the client recovers when Triton is back", async () => {
  const stream = client.openStream();
  const started = range(5).map((i) => {
    const iterator = stream.infer(repeatRequest(`doomed-${i}`, 1_000, 20));
    return { iterator, result: (async () => {
      const first = await iterator.next();
      const rest = await drain(iterator);
      return { first, ...rest, endedAt: Date.now() };
    })() };
  });
  // Every request is really in progress inside Triton.
  await eventually("all five requests to be streaming", () => stream.inFlight === 5, 3_000);
  await Bun.sleep(150);

  const killedAt = Date.now();
  await server.kill();
  const outcomes = await Promise.all(started.map((s) => s.result));
  for (const outcome of outcomes) {
    expect(readRepeat(outcome.first.value!).index).toBe(0);
    expect(outcome.error).toBeInstanceOf(TritonError);
    const error = outcome.error as TritonError;
    expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/stream/i);
    expect(outcome.endedAt - killedAt).toBeLessThan(FAILURE_BOUND_MS);
  }
  expect(stream.inFlight).toBe(0);
  const slowest = Math.max(...outcomes.map((o) => o.endedAt - killedAt));
  console.info(`recovery: in-flight requests failed ${slowest} ms after SIGKILL: ${(outcomes[0]!.error as Error).message}`);
  // The dead stream refuses new work with the same clear error instead of hanging.
  const late = await drain(stream.infer(repeatRequest("late", 1)));
  expect((late.error as TritonError).code).toBe(GrpcStatus.UNAVAILABLE);

  // While Triton is down, calls fail fast and retryably.
  const down = await client.serverLive({ deadlineMs: 2_000 }).then(() => undefined, (error: unknown) => error);
  expect(down).toBeInstanceOf(TritonError);
  expect((down as TritonError).retryable).toBe(true);

  await server.restart();
  const recoveredIn = await eventually("the same client to reach the restarted Triton", () => client.serverLive({ deadlineMs: 1_000 }), 10_000);
  expect(recoveredIn).toBeLessThan(10_000);
  console.info(`recovery: client reached the restarted Triton ${recoveredIn} ms after it was ready`);

  const fresh = client.openStream();
  try {
    const { items, error } = await drain(fresh.infer(repeatRequest("reborn", 3, 5)));
    expect(error).toBeUndefined();
    expect(items.map(readRepeat).map((item) => item.tag)).toEqual(["reborn", "reborn", "reborn"]);
    const unary = await client.infer({ model: "identity", inputs: [{ name: "IN_UINT32", datatype: "UINT32", shape: [1, 1], data: new Uint32Array([42]) }] });
    expect(unary.output("OUT_UINT32").data[0]).toBe(42);
  } finally {
    fresh.close();
  }
}, 60_000);

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
