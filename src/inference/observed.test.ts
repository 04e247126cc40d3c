/** The model-call decorator over fakes of the four interfaces: outcome, duration, time to first result. */
import { describe, expect, test } from "bun:test";
import { type ObservationOf, Observers } from "../telemetry/events";
import { observedModels } from "./observed";
import type { AudioChunk, Models } from "./types";

const NAMES = { vad: "silero", stt: "whisper", turn: "smart-turn", llm: "qwen", tts: "piper" };

function setup(overrides: Partial<Models> = {}) {
  const calls: ObservationOf<"model_call">[] = [];
  const observers = new Observers();
  observers.add({ types: ["model_call"], observe: (o) => calls.push(o as ObservationOf<"model_call">) });
  const fakes: Models = {
    vad: { open: () => ({ push: async () => [{ probability: 0.9, durationMs: 32 }], close: async () => {} }) },
    stt: {
      open: () => ({ push: () => {}, finish: async () => ({ text: "hi", isFinal: true, confidence: 1 }), abort: () => {} }),
    },
    turn: { predict: async () => 0.9, predictText: async () => 0.3 },
    llm: {
      async *stream() {
        await Bun.sleep(20);
        yield "Hello";
        yield " there";
      },
    },
    tts: {
      async *synthesize() {
        yield { samples: new Float32Array(10), sampleRate: 16000 } satisfies AudioChunk;
        throw new Error("model crashed");
      },
      voices: async () => ["amy"],
    },
    ...overrides,
  };
  return { models: observedModels(fakes, NAMES, observers), calls };
}

describe("observedModels", () => {
  test("a VAD push, an STT final and an end-of-turn prediction are one call each, named by the configured model", async () => {
    const { models, calls } = setup();
    const vad = models.vad.open();
    expect(await vad.push(new Float32Array(512))).toEqual([{ probability: 0.9, durationMs: 32 }]);
    const stt = models.stt.open({ language: "en", onPartial: () => {} });
    stt.push(new Float32Array(320));
    expect((await stt.finish()).text).toBe("hi");
    expect(await models.turn.predict(new Float32Array(16000))).toBe(0.9);
    expect(await models.tts.voices()).toEqual(["amy"]);
    expect(calls.map((c) => [c.role, c.model, c.outcome])).toEqual([
      ["vad", "silero", "ok"],
      ["stt", "whisper", "ok"],
      ["turn", "smart-turn", "ok"],
    ]);
  });

  test("a stream reports its time to the first item and its whole duration", async () => {
    const { models, calls } = setup();
    const deltas: string[] = [];
    for await (const delta of models.llm.stream({ prompt: "p", maxTokens: 5, temperature: 0 })) deltas.push(delta);
    expect(deltas).toEqual(["Hello", " there"]);
    const [call] = calls;
    expect(call).toMatchObject({ role: "llm", model: "qwen", outcome: "ok" });
    expect(call!.firstResultMs!).toBeGreaterThanOrEqual(15);
    expect(call!.durationMs).toBeGreaterThanOrEqual(call!.firstResultMs!);
  });

  test("a failing model is an error, its error passes through", async () => {
    const { models, calls } = setup();
    const consume = async () => {
      for await (const _ of models.tts.synthesize({ text: "x", voice: "v", speed: 1 })) {
        // reading on until the failure
      }
    };
    await expect(consume()).rejects.toThrow("model crashed");
    expect(calls[0]).toMatchObject({ role: "tts", outcome: "error" });
    expect(calls[0]!.firstResultMs).toBeDefined();
  });

  test("an aborted call is cancelled, not an error; a consumer that stops early is no failure", async () => {
    const controller = new AbortController();
    const { models, calls } = setup({
      vad: {
        open: () => ({
          push: async (_samples, signal) => {
            await Bun.sleep(5);
            if (signal?.aborted) throw new Error("aborted");
            return [];
          },
          close: async () => {},
        }),
      },
    });
    const push = models.vad.open().push(new Float32Array(512), controller.signal);
    controller.abort();
    await expect(push).rejects.toThrow("aborted");
    for await (const _ of models.llm.stream({ prompt: "p", maxTokens: 5, temperature: 0 })) break;
    expect(calls.map((c) => [c.role, c.outcome])).toEqual([
      ["vad", "cancelled"],
      ["llm", "ok"],
    ]);
  });
});
