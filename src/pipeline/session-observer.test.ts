/** What one session reports to the seam, from the hops between its stages and the messages it sends. */
import { describe, expect, test } from "bun:test";
import { type Observation, Observers } from "../telemetry/events";
import type { PipelineEvent } from "./events";
import { SessionObserver } from "./session-observer";
import { Turn } from "./turn";

const CHAIN = ["vad", "stt", "turns", "llm", "sentences", "tts"];

function setup(types?: Observation["type"][]) {
  const seen: Observation[] = [];
  const observers = new Observers();
  observers.add({ types, observe: (o) => seen.push(o) });
  const observer = new SessionObserver(observers, { sessionId: "s-1", conversationId: "c-1" });
  /** An event travelling the chain from `stage` on to the output, one hop at a time. */
  const travel = (stage: string, event: PipelineEvent) => {
    for (let i = CHAIN.indexOf(stage); i < CHAIN.length; i++) observer.hop(CHAIN[i]!, CHAIN[i + 1] ?? "output", i + 1, event);
  };
  const of = <T extends Observation["type"]>(type: T) => seen.filter((o) => o.type === type) as Extract<Observation, { type: T }>[];
  return { observer, travel, seen, of };
}

const speechStarted = (): PipelineEvent => ({ kind: "speech_started", at: performance.now() });
const speechStopped = (): PipelineEvent => ({ kind: "speech_stopped", at: performance.now(), speechEndedAt: performance.now() - 500 });

describe("SessionObserver", () => {
  test("a turn is reported started once, and ended with its outcome and latency report when the client is told", () => {
    const { observer, travel, of } = setup();
    const turn = new Turn("voice", "hello", performance.now(), 480);
    turn.mark("sttFinal");
    travel("turns", { kind: "turn_started", turn, messages: [] });
    expect(of("turn_started")).toMatchObject([{ sessionId: "s-1", conversationId: "c-1", turnId: turn.id, source: "voice", stagePosition: 2 }]);
    observer.sent({ type: "response_text", data: { turn_id: turn.id, text: "Hi", is_final: false } });
    expect(of("turn_ended")).toEqual([]);
    turn.state = "complete";
    observer.sent({ type: "response_complete", data: { turn_id: turn.id, text: "Hi", latency: turn.latency(), cached_audio: false } });
    observer.sent({ type: "response_complete", data: { turn_id: turn.id, text: "Hi", latency: turn.latency(), cached_audio: false } });
    const [ended, ...more] = of("turn_ended");
    expect(more).toEqual([]);
    expect(ended).toMatchObject({ turnId: turn.id, outcome: "complete", source: "voice" });
    expect(ended!.latency.endpointing_ms).toBe(480);
    expect(ended!.latency.stt_final_ms).not.toBeNull();
  });

  test("interruptions are reported once per turn; a failed turn ends when its error is sent", () => {
    const { observer, travel, of } = setup();
    const interrupted = new Turn("text", "a", performance.now());
    travel("turns", { kind: "turn_started", turn: interrupted, messages: [] });
    interrupted.cancel("interrupted: client");
    travel("turns", { kind: "interrupt", turn: interrupted, reason: "client" });
    interrupted.state = "interrupted";
    observer.sent({ type: "interrupted", data: { turn_id: interrupted.id, heard_text: "", heard_ms: 0, reason: "client" } });
    const failed = new Turn("text", "b", performance.now());
    travel("turns", { kind: "turn_started", turn: failed, messages: [] });
    failed.state = "failed";
    observer.sent({ type: "error", data: { code: "inference_failed", message: "llm: down", recoverable: true } });
    expect(of("interruption")).toMatchObject([{ turnId: interrupted.id, reason: "client" }]);
    expect(of("turn_ended").map((t) => [t.turnId, t.outcome])).toEqual([
      [interrupted.id, "interrupted"],
      [failed.id, "failed"],
    ]);
    expect(of("error")).toMatchObject([{ code: "inference_failed", sessionId: "s-1" }]);
  });

  test("speech over a reply that ends before barge-in is a false interruption; speech that barges in is not", () => {
    const { travel, of } = setup();
    const turn = new Turn("text", "a", performance.now());
    travel("turns", { kind: "turn_started", turn, messages: [] });
    travel("vad", speechStarted());
    travel("vad", speechStopped());
    expect(of("false_interruption")).toHaveLength(1);
    travel("vad", speechStarted());
    travel("vad", { kind: "barge_in", at: performance.now() });
    travel("vad", speechStopped());
    expect(of("false_interruption")).toHaveLength(1);
  });

  test("speech while no reply runs is no false interruption", () => {
    const { travel, of } = setup();
    travel("vad", speechStarted());
    travel("vad", speechStopped());
    expect(of("false_interruption")).toEqual([]);
  });

  test("stage events only when someone wants them: each hop, with the turn, or else the utterance it belongs to", () => {
    const quiet = setup(["turn_started"]);
    quiet.travel("vad", speechStarted());
    expect(quiet.seen).toEqual([]);
    const { travel, of } = setup(["stage_event", "turn_started"]);
    travel("vad", speechStarted());
    const turn = new Turn("voice", "hello", performance.now());
    travel("turns", { kind: "turn_started", turn, messages: [] });
    const hops = of("stage_event");
    expect(hops.filter((h) => h.kind === "speech_started").map((h) => [h.from, h.to, h.position, h.utterance])).toEqual([
      ["vad", "stt", 1, 1],
      ["stt", "turns", 2, 1],
      ["turns", "llm", 3, 1],
      ["llm", "sentences", 4, 1],
      ["sentences", "tts", 5, 1],
      ["tts", "output", 6, 1],
    ]);
    expect(hops.filter((h) => h.kind === "turn_started").every((h) => h.turnId === turn.id && h.utterance === undefined)).toBe(true);
    expect(of("turn_started")[0]!.utterance).toBe(1);
  });
});
