/** The failover rules over a pool of fake endpoints: which failures move a request, and what the caller sees. */
import { describe, expect, test } from "bun:test";
import { GrpcStatus, TritonError, type ModelIndexEntry, type TritonClient } from "@triton-client";
import { ModelServerLostError, streamWithFailover, unaryWithFailover, type ModelServers } from "./failover";
import { NoModelServerError, TritonPool } from "./pool";

/** Enough of a client for the pool's probes; the calls under test are the callbacks' own. */
class FakeClient {
  constructor(readonly url: string) {}
  serverReady(): Promise<boolean> {
    return Promise.resolve(true);
  }
  repositoryIndex(): Promise<ModelIndexEntry[]> {
    return Promise.resolve([]);
  }
  close(): void {}
}

function servers(): ModelServers {
  const pool = new TritonPool(["a:1", "b:1"], (url) => new FakeClient(url), { intervalMs: 60_000, timeoutMs: 100 });
  return pool as unknown as ModelServers;
}
const urlOf = (client: TritonClient) => (client as unknown as FakeClient).url;
const unavailable = () => new TritonError(GrpcStatus.UNAVAILABLE, "connect ECONNREFUSED 10.0.0.1:8001");

describe("unary requests", () => {
  test("a request refused by its endpoint is retried on the other, which then takes new requests", async () => {
    const pool = servers();
    const tried: string[] = [];
    const { value, url } = await unaryWithFailover(pool, "turn", undefined, async (client, _signal, at) => {
      tried.push(at);
      if (tried.length === 1) throw unavailable();
      return urlOf(client);
    });
    expect(tried.length).toBe(2);
    expect(value).toBe(url);
    expect(url).not.toBe(tried[0]!);
    expect(pool.status().find((s) => s.url === tried[0])!.healthy).toBe(false);
  });

  test("a request the model rejects is not retried", async () => {
    let calls = 0;
    const call = unaryWithFailover(servers(), "turn", undefined, async () => {
      calls += 1;
      throw new TritonError(GrpcStatus.INVALID_ARGUMENT, "bad input");
    });
    await expect(call).rejects.toThrow("bad input");
    expect(calls).toBe(1);
  });

  test("when every endpoint fails, the error is the clear one, with the last failure as its cause", async () => {
    const failure = (await unaryWithFailover(servers(), "turn", undefined, async () => {
      throw unavailable();
    }).catch((error: unknown) => error)) as NoModelServerError;
    expect(failure).toBeInstanceOf(NoModelServerError);
    expect(failure.publicMessage).toBe("no model server is available for the turn model right now; try again shortly");
    expect(String((failure.cause as Error).message)).toContain("ECONNREFUSED");
  });

  test("a request the caller aborted is not retried", async () => {
    const controller = new AbortController();
    let calls = 0;
    const call = unaryWithFailover(servers(), "turn", controller.signal, async () => {
      calls += 1;
      controller.abort();
      throw new TritonError(GrpcStatus.UNAVAILABLE, "cancelled");
    });
    await expect(call).rejects.toThrow("cancelled");
    expect(calls).toBe(1);
  });
});

describe("streams", () => {
  async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of items) out.push(item);
    return out;
  }

  test("a stream that fails before its first output is retried on the other endpoint", async () => {
    let attempts = 0;
    const items = await collect(
      streamWithFailover(servers(), "llm", undefined, async function* () {
        attempts += 1;
        if (attempts === 1) throw unavailable();
        yield "Paris";
      }),
    );
    expect(items).toEqual(["Paris"]);
    expect(attempts).toBe(2);
  });

  test("a stream that fails after output ends with ModelServerLostError, written for the client", async () => {
    let attempts = 0;
    const items: string[] = [];
    const failure = await (async () => {
      for await (const item of streamWithFailover(servers(), "llm", undefined, async function* () {
        attempts += 1;
        yield "The capital";
        throw unavailable();
      })) items.push(item);
    })().catch((error: unknown) => error as ModelServerLostError);
    expect(items).toEqual(["The capital"]);
    expect(attempts).toBe(1);
    expect(failure).toBeInstanceOf(ModelServerLostError);
    expect(failure!.publicMessage).toBe("the llm model server failed during this request and the rest of its answer is lost; try again");
  });

  test("the lease is released when the caller stops reading", async () => {
    const pool = servers();
    for await (const _ of streamWithFailover(pool, "tts", undefined, async function* () {
      yield 1;
      yield 2;
    })) break;
    expect(pool.status().map((s) => s.inFlight)).toEqual([0, 0]);
  });
});
