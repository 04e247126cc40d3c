/**
 * Several Tritons (issue 15, "Several Tritons"): two private supervised Tritons with the five CPU
 * models, and one of them killed mid-load.
 * - Morgan's stage adapters over the pool (src/inference/triton): new requests spread over both; an
 *   STT utterance whose Triton dies completes on the other with the right transcript; an LLM stream
 *   whose Triton dies mid-reply fails with a clear error; the next request goes to the survivor.
 * - The real Morgan server with TRITON_URL="A,B": a session's turns carry on through the kill, /ready
 *   stays ready, and /health reports each endpoint.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pcm16ToFloat32 } from "../../src/audio/pcm.ts";
import { modelServers, tritonModels } from "../../src/inference/triton/index.ts";
import { chatTemplate } from "../../src/pipeline/text/chat-template.ts";
import { PrivateTriton } from "../helpers/private-triton.ts";
import { waitFor } from "../helpers/services.ts";
import { TestClient } from "../pipeline/support/client.ts";
import { startServer } from "../pipeline/support/server.ts";
import { pcmChunks, silence, speak, wordErrorRate } from "../pipeline/support/speech.ts";

const MODELS = ["vad", "stt", "llm", "tts", "turn"];
const SUPERVISOR = { TRITON_PROBE_INTERVAL_S: "0.5", TRITON_PROBE_TIMEOUT_S: "1", TRITON_KILL_GRACE_S: "2", TRITON_START_TIMEOUT: "180" };
const tritons = [new PrivateTriton(MODELS, SUPERVISOR), new PrivateTriton(MODELS, SUPERVISOR)];

beforeAll(async () => {
  // One after the other: two model sets loading at once would crowd two cores.
  for (const triton of tritons) await triton.start();
}, 300_000);

afterAll(async () => {
  for (const triton of tritons) await triton.stop();
}, 60_000);

/** Internals a client must not see in an error. */
const INTERNALS = /ECONNREFUSED|ECONNRESET|127\.0\.0\.1|grpc|UNAVAILABLE|DEADLINE_EXCEEDED/i;

/** Waits until both Tritons are serving and their supervisors have seen them live (a kill then counts as a fault, not a failed start). */
async function bothServing(): Promise<void> {
  for (const triton of tritons) {
    await waitFor(() => triton.ready(), 180_000, "a private Triton to be ready");
    const pid = triton.serverPid();
    await waitFor(() => triton.log().includes(`tritonserver (pid ${pid}) is live`), 10_000, "the supervisor to probe the server");
  }
}

const tritonAt = (url: string) => tritons.find((t) => t.grpcUrl === url)!;

describe("the stage adapters over two Tritons", () => {
  const chatml = chatTemplate("chatml");
  const ask = (question: string) => chatml.format([{ role: "user", content: question }]);
  let servers: ReturnType<typeof modelServers>;
  let models: ReturnType<typeof tritonModels>;

  beforeAll(async () => {
    await bothServing();
    servers = modelServers(tritons.map((t) => t.grpcUrl), { healthIntervalMs: 500, healthTimeoutMs: 1000 });
    await servers.start();
    models = tritonModels(servers, { vad: "vad", stt: "stt", llm: "llm", tts: "tts", turn: "turn" }, 30_000);
  }, 240_000);

  afterAll(() => servers?.close());

  /** Both Tritons serve, and the pool's probes have seen it (a restarted one is back in the pool). */
  async function poolHealthy(): Promise<void> {
    await bothServing();
    await waitFor(() => servers.status().every((s) => s.healthy), 10_000, "the pool to see both Tritons healthy");
  }

  test("two streams at once go to different Tritons (fewest in flight)", async () => {
    const seen: number[][] = [];
    const generations = [0, 1].map(async () => {
      let text = "";
      for await (const delta of models.llm.stream({ prompt: ask("What is the capital of France?"), maxTokens: 20, temperature: 0, stop: [...chatml.stop] })) {
        seen.push(servers.status().map((s) => s.inFlight));
        text += delta;
      }
      return text;
    });
    const texts = await Promise.all(generations);
    expect(texts[0]).toMatch(/Paris/);
    expect(texts[1]).toBe(texts[0]!);
    expect(seen.some((counts) => counts[0] === 1 && counts[1] === 1)).toBe(true);
  }, 60_000);

  test("an STT utterance whose Triton is killed mid-utterance completes on the other with the right transcript", async () => {
    await poolHealthy();
    const said = "what is the weather like today";
    const chunks = pcmChunks(new Float32Array([...silence(200), ...speak(said), ...silence(300)]));
    const stream = models.stt.open({ language: "en", onPartial: () => {} });
    const half = Math.floor(chunks.length / 2);
    for (const chunk of chunks.slice(0, half)) {
      stream.push(pcm16ToFloat32(chunk));
      await Bun.sleep(20);
    }
    const holding = servers.status().find((s) => s.inFlight === 1);
    expect(holding).toBeDefined();
    const other = servers.status().find((s) => s.url !== holding!.url)!;
    process.kill(tritonAt(holding!.url).serverPid(), "SIGKILL");
    for (const chunk of chunks.slice(half)) {
      stream.push(pcm16ToFloat32(chunk));
      await Bun.sleep(20);
    }
    const final = await stream.finish();
    expect(wordErrorRate(said, final.text)).toBeLessThanOrEqual(0.25);
    // It finished on the survivor: the killed endpoint is out of the pool (its supervisor is still restarting it).
    expect(servers.status().find((s) => s.url === holding!.url)!.healthy).toBe(false);
    expect(servers.status().find((s) => s.url === other.url)!.healthy).toBe(true);
  }, 120_000);

  test("an LLM stream whose Triton is killed mid-reply fails with a clear error; the next request goes to the other", async () => {
    await poolHealthy();
    const deltas: string[] = [];
    let killed: string | undefined;
    const generate = async () => {
      const request = { prompt: ask("Tell me a very long story about a dragon and a knight."), maxTokens: 400, temperature: 1, repetitionPenalty: 1.2 };
      for await (const delta of models.llm.stream(request)) {
        deltas.push(delta);
        if (!killed && deltas.length === 3) {
          killed = servers.status().find((s) => s.inFlight === 1)!.url;
          process.kill(tritonAt(killed).serverPid(), "SIGKILL");
        }
      }
    };
    const failure = await generate().then(() => undefined, (error: unknown) => error as Error);
    expect(failure).toBeDefined();
    expect(failure!.message).toBe("the llm model server failed during this request and the rest of its answer is lost; try again");
    expect(failure!.message).not.toMatch(INTERNALS);
    // The survivor takes the next one at once (the killed endpoint is out until its probe answers).
    let text = "";
    for await (const delta of models.llm.stream({ prompt: ask("What is the capital of France?"), maxTokens: 20, temperature: 0, stop: [...chatml.stop] })) text += delta;
    expect(text).toMatch(/Paris/);
    expect(servers.status().find((s) => s.url === killed)!.healthy).toBe(false);
  }, 120_000);

  test("a unary request (turn model) goes to the survivor while one Triton is down", async () => {
    await poolHealthy();
    const victim = tritons[0]!;
    process.kill(victim.serverPid(), "SIGKILL");
    // Right after the kill, before any probe has noticed: the first request finds it refused and moves.
    const probabilities = [];
    for (let i = 0; i < 3; i++) probabilities.push(await models.turn.predict(new Float32Array([...speak("What is the capital of France?"), ...silence(200)])));
    for (const p of probabilities) expect(p).toBeGreaterThan(0.5);
    expect(servers.status()[0]!.healthy).toBe(false);
  }, 120_000);
});

describe("Morgan with TRITON_URL listing two Tritons", () => {
  test("a session's turns carry on while one Triton is killed; /ready stays ready; /health lists both", async () => {
    await bothServing();
    const server = await startServer({ env: { TRITON_URL: tritons.map((t) => t.grpcUrl).join(","), MORGAN_TRITON_HEALTH_INTERVAL_MS: "500" } });
    try {
      const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
      client.send({ type: "start", data: { language: "en", max_response_tokens: 24, temperature: 0 } });
      await client.next("session_started");
      const outcomes: string[] = [];
      const turn = async (n: number) => {
        const from = client.received.length;
        client.send({ type: "text", data: { text: `Question ${n}: what is the capital of France?` } });
        const ended = await Promise.race([
          client.next("response_complete", { from, timeoutMs: 60_000 }).then(() => "complete"),
          client.next("error", { from, timeoutMs: 60_000 }).then((m) => `error: ${m.data.message}`),
        ]);
        outcomes.push(ended);
        if (ended !== "complete") await Bun.sleep(300);
      };
      await turn(1);
      expect(outcomes).toEqual(["complete"]);
      const health = (await (await fetch(`${server.url}/health`)).json()) as { checks: { triton: { endpoints: { url: string; healthy: boolean }[] } } };
      expect(health.checks.triton.endpoints.map((e) => [e.url, e.healthy])).toEqual(tritons.map((t) => [t.grpcUrl, true]));

      const victim = tritons[0]!;
      const turns = (async () => {
        for (let n = 2; n <= 7; n++) await turn(n);
      })();
      await Bun.sleep(300);
      process.kill(victim.serverPid(), "SIGKILL");
      const readiness: number[] = [];
      while (outcomes.length < 7) {
        readiness.push((await fetch(`${server.url}/ready`)).status);
        await Bun.sleep(200);
      }
      await turns;
      // At most the turn in flight on the killed Triton failed, with a clear message; the rest completed.
      const failed = outcomes.filter((o) => o !== "complete");
      expect(failed.length).toBeLessThanOrEqual(1);
      for (const failure of failed) expect(failure).not.toMatch(INTERNALS);
      expect(outcomes.slice(-3)).toEqual(["complete", "complete", "complete"]);
      expect(readiness.every((status) => status === 200)).toBe(true);
      client.close();
    } finally {
      await server.stop();
    }
  }, 240_000);
});
