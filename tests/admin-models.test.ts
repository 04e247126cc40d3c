/**
 * The admin API for Triton's model repository, end to end: a real Morgan server on a Triton of this
 * test's own (just the tts model, so unloading disturbs no other test), driven over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { TritonClient } from "@triton-client";
import type { ActionResult, ModelEntry } from "../src/inference/model-repository/repository.ts";
import { text } from "../src/inference/triton/tensors.ts";
import { PrivateTriton } from "./helpers/private-triton.ts";
import { waitFor } from "./helpers/services.ts";
import { type RunningServer, startServer } from "./pipeline/support/server.ts";

const triton = new PrivateTriton(["tts"]);
let server: RunningServer;

beforeAll(async () => {
  await triton.start();
  server = await startServer({ env: { TRITON_URL: triton.grpcUrl } });
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await triton.stop();
}, 60_000);

const api = (path: string, method = "GET") => fetch(`${server.url}/v1/admin/models${path}`, { method });
const models = async () => ((await (await api("")).json()) as { models: ModelEntry[] }).models;
const tts = async () => (await models()).find((m) => m.name === "tts")!;

describe("GET /v1/admin/models", () => {
  test("lists each model with its state, its role and Triton's statistics", async () => {
    const before = await tts();
    expect(before).toMatchObject({ name: "tts", version: "1", state: "READY", role: "tts" });
    const spoken = await fetch(`${server.url}/v1/tts/generate`, { method: "POST", body: JSON.stringify({ text: "Hello there." }), headers: { "content-type": "application/json" } });
    expect(spoken.status).toBe(200);
    // Triton records a request's statistics when the model's execute returns, just after its last response.
    await waitFor(async () => (await tts()).statistics!.requests > before.statistics!.requests, 5_000, "Triton to count the request");
    const after = (await tts()).statistics!;
    expect(after.requests).toBe(before.statistics!.requests + 1);
    expect(after.failures).toBe(0);
    expect(after.computeS).toBeGreaterThan(before.statistics!.computeS);
    expect(after.queueS).toBeGreaterThanOrEqual(0);
    expect(Date.parse(after.lastInferenceAt!)).toBeGreaterThan(Date.now() - 60_000);
  });

  test("validate checks what Triton serves against the contract: the roles this Triton lacks are named", async () => {
    const response = await api("/validate");
    expect(response.status).toBe(200);
    const { ok, problems } = (await response.json()) as { ok: boolean; problems: string[] };
    expect(ok).toBe(false);
    for (const role of ["vad", "stt", "llm"]) expect(problems.some((p) => p.startsWith(`${role} (${role}): Triton has no configuration`))).toBe(true);
    expect(problems.some((p) => p.startsWith("tts"))).toBe(false);
  });
});

describe("load, unload, reload", () => {
  test("change the state and say how long it took", async () => {
    const unloaded = (await (await api("/tts/unload", "POST")).json()) as ActionResult;
    expect(unloaded).toMatchObject({ name: "tts", action: "unload", state: "UNAVAILABLE" });
    expect((await tts()).state).toBe("UNAVAILABLE");
    const loaded = (await (await api("/tts/load", "POST")).json()) as ActionResult;
    expect(loaded).toMatchObject({ action: "load", state: "READY" });
    const reloaded = (await (await api("/tts/reload", "POST")).json()) as ActionResult;
    expect(reloaded).toMatchObject({ action: "reload", state: "READY" });
    expect(reloaded.durationMs).toBeGreaterThan(0);
  }, 120_000);

  test("an unload held up by an open stream is reported stuck within the timeout, and completes once the stream closes", async () => {
    // Triton keeps a model UNLOADING while any gRPC stream that sent it a request stays open.
    const client = new TritonClient({ url: triton.grpcUrl });
    const stream = client.openStream();
    try {
      for await (const _ of stream.infer({ model: "tts", inputs: [text("target_text", "Held open.")] })) {
        // the request completes; the stream stays open
      }
      const started = Date.now();
      const response = await api("/tts/unload?timeout_s=2", "POST");
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(response.status).toBe(504);
      const body = (await response.json()) as { error: string; message: string; model: ModelEntry };
      expect(body.error).toBe("model_stuck");
      expect(body.model.state).toBe("UNLOADING");
      expect(body.message).toContain("tts is still UNLOADING after 2 s");
      expect(body.message).toContain("gRPC stream");
    } finally {
      stream.close();
      client.close();
    }
    const deadline = Date.now() + 20_000;
    while ((await tts()).state !== "UNAVAILABLE" && Date.now() < deadline) await Bun.sleep(100);
    expect((await tts()).state).toBe("UNAVAILABLE");
    expect(((await (await api("/tts/load", "POST")).json()) as ActionResult).state).toBe("READY");
  }, 120_000);

  test("bad names, unknown models and bad timeouts are clear errors", async () => {
    const traversal = await api("/..%2Fetc/load", "POST");
    expect(traversal.status).toBe(400);
    expect(((await traversal.json()) as { message: string }).message).toContain("invalid model name");
    const unknown = await api("/no_such_model/unload", "POST");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toBe("model no_such_model is not in Triton's repository");
    const badTimeout = await api("/tts/unload?timeout_s=0", "POST");
    expect(badTimeout.status).toBe(400);
    expect(((await badTimeout.json()) as { problems: { field: string }[] }).problems[0]!.field).toBe("timeout_s");
    expect((await tts()).state).toBe("READY");
  });
});

test("without authentication (auth.mode none) Morgan listens on loopback only: another interface cannot reach the admin API", async () => {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
  if (!address) throw new Error("this test needs a non-loopback IPv4 interface to reach the server as a remote client");
  const refused = await fetch(`http://${address}:${server.port}/v1/admin/models/tts/unload`, { method: "POST" }).then(
    (response) => `answered ${response.status}`,
    () => "connection refused",
  );
  expect(refused).toBe("connection refused");
  expect((await tts()).state).toBe("READY");
});
