/** The pool's choice and health logic, against fake endpoints whose probes the test scripts. */
import { describe, expect, test } from "bun:test";
import { GrpcStatus, TritonError, type ModelIndexEntry } from "@triton-client";
import { DOWN_AFTER, NoModelServerError, type ProbedClient, TritonPool } from "./pool";

/** A fake endpoint: answers probes as told (`ready`, `models`), or never (`hung`), or refuses (`dead`). */
class FakeEndpoint implements ProbedClient {
  ready = true;
  models = ["vad", "stt", "llm", "tts", "turn"];
  state: "up" | "dead" | "hung" = "up";
  closed = false;

  serverReady(): Promise<boolean> {
    return this.answer(() => this.ready);
  }

  repositoryIndex(): Promise<ModelIndexEntry[]> {
    return this.answer(() => this.models.map((name) => ({ name, version: "1", state: "READY", reason: "" })));
  }

  close(): void {
    this.closed = true;
  }

  private answer<T>(value: () => T): Promise<T> {
    if (this.state === "dead") return Promise.reject(new TritonError(GrpcStatus.UNAVAILABLE, "connect ECONNREFUSED"));
    // The pool's probe deadline is the client's job; a hung server answers with DEADLINE_EXCEEDED after it.
    if (this.state === "hung") return Promise.reject(new TritonError(GrpcStatus.DEADLINE_EXCEEDED, "deadline exceeded"));
    return Promise.resolve(value());
  }
}

function pool(count: number) {
  const fakes = new Map<string, FakeEndpoint>();
  const urls = Array.from({ length: count }, (_, i) => `10.0.0.${i + 1}:8001`);
  const servers = new TritonPool(urls, (url) => {
    const fake = new FakeEndpoint();
    fakes.set(url, fake);
    return fake;
  }, { intervalMs: 60_000, timeoutMs: 100 });
  return { servers, urls, fake: (url: string) => fakes.get(url)! };
}

describe("choosing an endpoint", () => {
  test("each new request goes to the endpoint with the fewest requests in flight", () => {
    const { servers, urls } = pool(3);
    const first = servers.acquire("llm");
    const second = servers.acquire("llm");
    const third = servers.acquire("llm");
    expect(new Set([first, second, third].map((l) => l.endpoint.url))).toEqual(new Set(urls));
    second.release();
    expect(servers.acquire("llm").endpoint.url).toBe(second.endpoint.url);
    expect(servers.status().map((s) => s.inFlight)).toEqual([1, 1, 1]);
  });

  test("idle endpoints share the work instead of one taking every sequential request", () => {
    const { servers } = pool(2);
    const used = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const lease = servers.acquire("stt");
      used.add(lease.endpoint.url);
      lease.release();
    }
    expect(used.size).toBe(2);
  });

  test("a released lease counts once, however often it is released", () => {
    const { servers } = pool(1);
    const lease = servers.acquire("tts");
    lease.release();
    lease.release();
    expect(servers.status()[0]!.inFlight).toBe(0);
  });

  test("only endpoints that have the model ready are chosen", async () => {
    const { servers, urls, fake } = pool(2);
    fake(urls[1]!).models = ["llm"];
    await servers.probeAll();
    for (let i = 0; i < 5; i++) {
      const lease = servers.acquire("stt");
      expect(lease.endpoint.url).toBe(urls[0]!);
      lease.release();
    }
    expect(servers.status()[1]!.readyModels).toEqual(["llm"]);
  });

  test("endpoints a request already failed on are left out, and when none is left the error is clear", () => {
    const { servers, urls } = pool(2);
    expect(servers.acquire("llm", new Set([urls[0]!])).endpoint.url).toBe(urls[1]!);
    expect(() => servers.acquire("llm", new Set(urls))).toThrow(NoModelServerError);
    expect(() => servers.acquire("llm", new Set(urls))).toThrow("no model server is available for the llm model right now; try again shortly");
  });

  test("a preferred endpoint (where a sequence lives) wins while it is not down, even when busier", () => {
    const { servers, urls } = pool(2);
    const busy = servers.acquire("vad", new Set(), urls[0]);
    expect(busy.endpoint.url).toBe(urls[0]!);
    expect(servers.acquire("vad", new Set(), urls[0]).endpoint.url).toBe(urls[0]!);
  });
});

describe("health", () => {
  test("an endpoint that fails a probe gets no new requests, and gets them again once a probe answers", async () => {
    const changes: string[] = [];
    const { servers, urls, fake } = pool(2);
    servers.watch((url, healthy) => changes.push(`${url} ${healthy ? "healthy" : "unhealthy"}`));
    fake(urls[0]!).state = "dead";
    await servers.probeAll();
    for (let i = 0; i < 3; i++) expect(servers.acquire("llm").endpoint.url).toBe(urls[1]!);
    fake(urls[0]!).state = "up";
    await servers.probeAll();
    expect(servers.status()[0]!.healthy).toBe(true);
    // Each endpoint once as it is now, then the changes.
    expect(changes).toEqual([`${urls[0]} healthy`, `${urls[1]} healthy`, `${urls[0]} unhealthy`, `${urls[0]} healthy`]);
  });

  test("a server that answers but is not ready gets no new requests and is not counted as hung", async () => {
    const { servers, urls, fake } = pool(2);
    fake(urls[0]!).ready = false;
    for (let i = 0; i < DOWN_AFTER + 1; i++) await servers.probeAll();
    expect(servers.status()[0]).toMatchObject({ healthy: false, down: false });
    expect(servers.acquire("llm").endpoint.url).toBe(urls[1]!);
  });

  test(`after ${DOWN_AFTER} failed probes in a row an endpoint is down: its in-flight requests are aborted`, async () => {
    const { servers, urls, fake } = pool(2);
    const lease = servers.acquire("llm", new Set([urls[1]!]));
    fake(urls[0]!).state = "hung";
    for (let i = 0; i < DOWN_AFTER - 1; i++) await servers.probeAll();
    expect(lease.signal.aborted).toBe(false);
    await servers.probeAll();
    expect(lease.signal.aborted).toBe(true);
    expect(String(lease.signal.reason)).toContain("stopped answering");
    // Requests made after it recovers are not born aborted.
    fake(urls[0]!).state = "up";
    await servers.probeAll();
    expect(servers.acquire("llm", new Set([urls[1]!])).signal.aborted).toBe(false);
  });

  test("a request that found its endpoint unreachable takes it out at once, before the next probe", () => {
    const { servers, urls } = pool(2);
    servers.reportUnreachable(urls[0]!);
    for (let i = 0; i < 3; i++) expect(servers.acquire("tts").endpoint.url).toBe(urls[1]!);
  });

  test("when no endpoint is healthy, one that is not down is still tried (a probe may lag a restart)", async () => {
    const { servers, urls } = pool(1);
    servers.reportUnreachable(urls[0]!);
    expect(servers.anyHealthy()).toBe(false);
    expect(servers.acquire("llm").endpoint.url).toBe(urls[0]!);
  });

  test("when every endpoint is down, requests fail at once with a clear error", async () => {
    const { servers, urls, fake } = pool(2);
    for (const url of urls) fake(url).state = "hung";
    for (let i = 0; i < DOWN_AFTER; i++) await servers.probeAll();
    expect(servers.anyHealthy()).toBe(false);
    expect(() => servers.acquire("llm")).toThrow(NoModelServerError);
  });

  test("close() closes every endpoint's client", () => {
    const { servers, urls, fake } = pool(2);
    servers.close();
    expect(urls.map((url) => fake(url).closed)).toEqual([true, true]);
  });
});
