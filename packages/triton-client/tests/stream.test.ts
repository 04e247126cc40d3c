/**
 * The multiplexed ModelStreamInfer stream against a real tritonserver running
 * the fixture models (decoupled `repeat`, unary `identity`, sequence `accumulate`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GrpcStatus, TritonClient, TritonError } from "@triton-client";
import { drain, eventually, int32, readRepeat, repeatRequest, type RepeatItem } from "./fixtures";
import { TritonServer } from "./triton-server";

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

const indexes = (items: RepeatItem[]) => items.map((item) => item.index);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("one request", () => {
  test("a decoupled model's responses arrive in order and the iterator ends after Triton's final flag", async () => {
    const stream = client.openStream();
    try {
      const { items, error } = await drain(stream.infer(repeatRequest("solo", 5, 5)));
      expect(error).toBeUndefined();
      const decoded = items.map(readRepeat);
      expect(indexes(decoded)).toEqual(range(5));
      expect(decoded.every((item) => item.tag === "solo")).toBe(true);
      // The final flag came on an empty response, which ends the iterator without being yielded.
      expect(items.every((item) => item.final === false)).toBe(true);
      expect(items.every((item) => item.parameters.triton_final_response === false)).toBe(true);
      expect(stream.inFlight).toBe(0);
    } finally {
      stream.close();
    }
  });

  test("a non-decoupled model on the stream yields one response marked final", async () => {
    const stream = client.openStream();
    try {
      const { items } = await drain(stream.infer({ model: "identity", inputs: [{ name: "IN_INT16", datatype: "INT16", shape: [1, 2], data: new Int16Array([7, -7]) }] }));
      expect(items).toHaveLength(1);
      expect(items[0]!.final).toBe(true);
      expect(Array.from(items[0]!.output("OUT_INT16").data as Int16Array)).toEqual([7, -7]);
    } finally {
      stream.close();
    }
  });

  test("sequence requests work over the stream", async () => {
    const stream = client.openStream();
    try {
      const send = async (value: number, flags: { sequenceStart?: boolean; sequenceEnd?: boolean }) => {
        const { items } = await drain(stream.infer({ model: "accumulate", inputs: [int32("VALUE", value)], sequenceId: 77, ...flags }));
        return (items[0]!.output("SUM").data as Int32Array)[0];
      };
      expect(await send(4, { sequenceStart: true })).toBe(4);
      expect(await send(5, {})).toBe(9);
      expect(await send(6, { sequenceEnd: true })).toBe(15);
    } finally {
      stream.close();
    }
  });
});

describe("multiplexing", () => {
  test("ten interleaved requests on one stream each get exactly their own responses", async () => {
    const stream = client.openStream();
    const arrivals: string[] = [];
    try {
      const requests = range(10).map((i) => ({ tag: `req-${i}`, count: 3 + (i % 5), delayMs: 10 + (i % 3) * 7 }));
      const results = await Promise.all(
        requests.map(async ({ tag, count, delayMs }) => {
          const items: RepeatItem[] = [];
          for await (const response of stream.infer(repeatRequest(tag, count, delayMs))) {
            const item = readRepeat(response);
            arrivals.push(item.tag);
            items.push(item);
          }
          return items;
        }),
      );
      results.forEach((items, i) => {
        expect(items.map((item) => item.tag)).toEqual(Array(requests[i]!.count).fill(requests[i]!.tag));
        expect(indexes(items)).toEqual(range(requests[i]!.count));
      });
      // Prove the responses really were interleaved on the wire, not served one request after another.
      const switches = arrivals.filter((tag, i) => i > 0 && tag !== arrivals[i - 1]).length;
      expect(switches).toBeGreaterThan(20);
      expect(stream.inFlight).toBe(0);
    } finally {
      stream.close();
    }
  }, 20_000);

  test("aborting one request's signal stops only that request; the others and the stream carry on", async () => {
    const stream = client.openStream();
    try {
      const controller = new AbortController();
      const victim = stream.infer(repeatRequest("victim", 50, 20), { signal: controller.signal });
      const left = drain(stream.infer(repeatRequest("left", 6, 20)));
      const right = drain(stream.infer(repeatRequest("right", 6, 20)));
      const first = await victim.next();
      expect(readRepeat(first.value!).tag).toBe("victim");
      const abortedAt = Date.now();
      controller.abort();
      const victimEnd = await drain(victim);
      expect(Date.now() - abortedAt).toBeLessThan(100);
      expect(victimEnd.error).toBeInstanceOf(TritonError);
      expect((victimEnd.error as TritonError).code).toBe(GrpcStatus.CANCELLED);
      expect((victimEnd.error as TritonError).message).toContain("aborted by the caller");

      for (const [result, tag] of [[await left, "left"], [await right, "right"]] as const) {
        expect(result.error).toBeUndefined();
        expect(result.items.map(readRepeat)).toEqual(range(6).map((index) => ({ index, tag })));
      }
      // The stream is still healthy for new work.
      expect(indexes((await drain(stream.infer(repeatRequest("after", 2)))).items.map(readRepeat))).toEqual([0, 1]);
      expect(stream.error).toBeUndefined();
    } finally {
      stream.close();
    }
  }, 20_000);

  test("breaking out of a for-await loop stops waiting for that request only", async () => {
    const stream = client.openStream();
    try {
      const other = drain(stream.infer(repeatRequest("other", 4, 15)));
      let seen = 0;
      for await (const _ of stream.infer(repeatRequest("quitter", 40, 15))) {
        if (++seen === 2) break;
      }
      expect(seen).toBe(2);
      expect((await other).items).toHaveLength(4);
      await eventually("the abandoned request to be forgotten", () => stream.inFlight === 0, 2_000);
    } finally {
      stream.close();
    }
  });

  test("a per-request deadline fails that request alone with a retryable DEADLINE_EXCEEDED", async () => {
    const stream = client.openStream();
    try {
      const slow = drain(stream.infer(repeatRequest("slow", 20, 50), { deadlineMs: 120 }));
      const quick = drain(stream.infer(repeatRequest("quick", 3, 10)));
      const slowResult = await slow;
      expect((slowResult.error as TritonError).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect((slowResult.error as TritonError).retryable).toBe(true);
      expect(slowResult.items.length).toBeLessThan(20);
      expect((await quick).items).toHaveLength(3);
    } finally {
      stream.close();
    }
  });

  test("a model error reaches only its request, after the responses sent before it", async () => {
    const stream = client.openStream();
    try {
      const failing = drain(stream.infer(repeatRequest("bad", 5, 10, 2)));
      const healthy = range(3).map((i) => drain(stream.infer(repeatRequest(`good-${i}`, 5, 10))));
      const failed = await failing;
      expect(indexes(failed.items.map(readRepeat))).toEqual([0, 1]);
      expect(failed.error).toBeInstanceOf(TritonError);
      const error = failed.error as TritonError;
      expect(error.message).toContain('model "repeat" failed request');
      expect(error.message).toContain("repeat: failing on purpose at response 2");
      expect(error.retryable).toBe(false);
      expect(error.model).toBe("repeat");
      for (const result of await Promise.all(healthy)) {
        expect(result.error).toBeUndefined();
        expect(indexes(result.items.map(readRepeat))).toEqual(range(5));
      }
      expect(stream.error).toBeUndefined();
    } finally {
      stream.close();
    }
  });

  test("a caller-chosen id is echoed, and reusing an in-flight id is refused", async () => {
    const stream = client.openStream();
    try {
      const first = stream.infer({ ...repeatRequest("x", 3, 20), id: "my-id" });
      const duplicate = await drain(stream.infer({ ...repeatRequest("y", 1), id: "my-id" }));
      expect((duplicate.error as TritonError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect((duplicate.error as TritonError).message).toContain('request id "my-id" is already in flight');
      const { items } = await drain(first);
      expect(items.map((r) => r.id)).toEqual(["my-id", "my-id", "my-id"]);
    } finally {
      stream.close();
    }
  });

  test("invalid input fails its own request without touching the stream", async () => {
    const stream = client.openStream();
    try {
      const bad = await drain(stream.infer({ model: "repeat", inputs: [{ name: "COUNT", datatype: "INT32", shape: [2], data: new Int32Array(1) }] }));
      expect((bad.error as TritonError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect((await drain(stream.infer(repeatRequest("fine", 1)))).items).toHaveLength(1);
    } finally {
      stream.close();
    }
  });
});

describe("closing", () => {
  test("close() fails waiting requests with CANCELLED and makes Triton cancel the work", async () => {
    const stream = client.openStream();
    const tag = `close-${Date.now()}`;
    const pending = drain(stream.infer(repeatRequest(tag, 200, 20)));
    await eventually("the request to start streaming", () => stream.inFlight === 1, 2_000);
    await Bun.sleep(100);
    stream.close();
    const result = await pending;
    expect((result.error as TritonError).code).toBe(GrpcStatus.CANCELLED);
    expect((result.error as TritonError).message).toContain("stream was closed by the caller");
    // The model logs when it sees the cancellation; 200 x 20 ms would otherwise run for 4 s.
    await eventually("Triton to cancel the request", () => server.output.includes(`request tag=${tag} cancelled after`), 2_000);
    // A closed stream refuses new requests.
    expect(((await drain(stream.infer(repeatRequest("late", 1)))).error as TritonError).code).toBe(GrpcStatus.CANCELLED);
  });

  test("aborting the signal given to openStream closes the stream", async () => {
    const controller = new AbortController();
    const stream = client.openStream({ signal: controller.signal });
    const pending = drain(stream.infer(repeatRequest("stream-abort", 100, 20)));
    await Bun.sleep(100);
    controller.abort();
    expect(((await pending).error as TritonError).code).toBe(GrpcStatus.CANCELLED);
    await stream.settled;
  });

  test("end() lets in-flight requests finish, then resolves", async () => {
    const stream = client.openStream();
    const pending = drain(stream.infer(repeatRequest("graceful", 4, 20)));
    await Bun.sleep(10);
    await stream.end();
    const result = await pending;
    expect(result.error).toBeUndefined();
    expect(result.items).toHaveLength(4);
  });

  test("client.close() closes its open streams", async () => {
    const own = new TritonClient({ url: server.grpcUrl });
    const stream = own.openStream();
    const pending = drain(stream.infer(repeatRequest("client-close", 100, 20)));
    await Bun.sleep(100);
    own.close();
    expect(((await pending).error as TritonError).code).toBe(GrpcStatus.CANCELLED);
  });
});
