import { describe, expect, test } from "bun:test";
import type { SpokenItem } from "../protocol";
import { type Arrival, analyse, type Sent } from "./spoken";

const pausedItem: SpokenItem = { kind: "speech", utterance: { voice: "piper", parts: ["set a timer for", "ten minutes"], pauseMs: 700 }, reference: "set a timer for ten minutes" };
const sent = (item: SpokenItem, startedAt: number, endAt: number): Sent => ({ item, index: 0, startedAt, endAt });

describe("analyse: which messages belong to an utterance", () => {
  test("an end of turn during the pause counts as premature; the reply is the new turn after the final transcript", () => {
    const arrivals: Arrival[] = [
      { at: 100, type: "vad_status", speaking: true },
      { at: 900, type: "vad_status", speaking: false }, // ended at the pause
      { at: 1000, type: "final", text: "set a timer for" },
      { at: 1100, type: "text", turnId: "cut" },
      { at: 1200, type: "audio", turnId: "cut" },
      { at: 1500, type: "vad_status", speaking: true },
      { at: 2300, type: "vad_status", speaking: false },
      { at: 2400, type: "final", text: "ten minutes" },
      { at: 2500, type: "audio", turnId: "cut" }, // late audio of the interrupted reply
      { at: 2600, type: "text", turnId: "whole" },
      { at: 2900, type: "audio", turnId: "whole" },
      { at: 4000, type: "complete", turnId: "whole", text: "Done.", latency: { endpointing_ms: 250 } },
    ];
    const result = analyse(sent(pausedItem, 0, 2000), arrivals, Infinity, 0);
    expect(result.prematureEnds).toBe(1);
    expect(result.endpointingMs).toBe(300);
    expect(result.transcript).toBe("ten minutes");
    expect(result.firstTextMs).toBe(200);
    expect(result.firstAudioMs).toBe(900);
    expect(result.reply).toBe("Done.");
    expect(result.latency).toEqual({ endpointing_ms: 250 });
    expect(result.pauseMs).toBe(700);
  });

  test("no end of turn after the last voiced chunk yet: nothing measured", () => {
    const arrivals: Arrival[] = [{ at: 100, type: "vad_status", speaking: true }];
    const result = analyse(sent(pausedItem, 0, 2000), arrivals, Infinity, 0);
    expect(result.prematureEnds).toBe(0);
    expect(result.endpointingMs).toBeNull();
    expect(result.firstAudioMs).toBeNull();
  });

  test("a typed item's reply is the first turn after the text, and messages past the window are not its own", () => {
    const item: SpokenItem = { kind: "text", text: "hello" };
    const arrivals: Arrival[] = [
      { at: 50, type: "audio", turnId: "before" },
      { at: 150, type: "text", turnId: "before" },
      { at: 300, type: "text", turnId: "mine" },
      { at: 700, type: "audio", turnId: "mine" },
      { at: 5000, type: "complete", turnId: "mine", text: "Hi!", latency: {} },
    ];
    const result = analyse(sent(item, 100, 100), arrivals, 4000, 0);
    expect(result.firstTextMs).toBe(200);
    expect(result.firstAudioMs).toBe(600);
    expect(result.reply).toBeNull();
  });

  test("server errors are the item's error", () => {
    const result = analyse(sent(pausedItem, 0, 2000), [{ at: 10, type: "error", message: "invalid_audio: bad" }], Infinity, 0);
    expect(result.error).toBe("invalid_audio: bad");
  });
});
