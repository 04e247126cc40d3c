import { describe, expect, test } from "bun:test";
import { type EndpointAction, Endpointer } from "./endpointing";
import { testOptions } from "./testing";

const FRAME_MS = 32;
const SPEECH = 0.9;
const SILENCE = 0.01;

/** Feeds `ms` of frames at `probability`, arriving at increasing times; returns the actions. */
function feed(endpointer: Endpointer, probability: number, ms: number, clock = { now: 0 }): EndpointAction[] {
  const actions: EndpointAction[] = [];
  for (let t = 0; t < ms; t += FRAME_MS) {
    clock.now += FRAME_MS;
    actions.push(...endpointer.frame(probability, FRAME_MS, clock.now));
  }
  return actions;
}

const kinds = (actions: EndpointAction[]) => actions.map((a) => a.kind);

describe("Endpointer", () => {
  test("speech starts after min_speech_ms of continuous speech; a click starts nothing", () => {
    const endpointer = new Endpointer(() => testOptions());
    expect(kinds(feed(endpointer, SPEECH, 64))).toEqual([]);
    expect(kinds(feed(endpointer, SILENCE, 64))).toEqual([]);
    expect(kinds(feed(endpointer, SPEECH, 160))).toEqual(["speech_started"]);
  });

  test("silence mode ends the turn after the silence, with a pause first, measured from the last voiced frame", () => {
    const endpointer = new Endpointer(() => testOptions({ endpointing: { mode: "silence" } }));
    const clock = { now: 0 };
    feed(endpointer, SPEECH, 1000, clock);
    const lastVoiced = clock.now;
    const actions = feed(endpointer, SILENCE, 600, clock);
    expect(kinds(actions)).toEqual(["pause", "end_of_turn"]);
    expect(actions[1]).toEqual({ kind: "end_of_turn", reason: "silence", speechEndedAt: lastVoiced });
  });

  test("semantic mode: a confident model ends the turn at the first pause (early)", () => {
    const endpointer = new Endpointer(() => testOptions());
    feed(endpointer, SPEECH, 800);
    const [pause] = feed(endpointer, SILENCE, 200);
    expect(pause).toEqual({ kind: "pause", pause: 1 });
    expect(kinds(endpointer.modelAnswer(1, 0.9, null))).toEqual(["end_of_turn"]);
  });

  test("semantic mode: an unsure model waits for the maximum silence (late)", () => {
    const endpointer = new Endpointer(() => testOptions());
    feed(endpointer, SPEECH, 800);
    feed(endpointer, SILENCE, 200);
    expect(endpointer.modelAnswer(1, 0.2, null)).toEqual([]);
    const actions = feed(endpointer, SILENCE, 1800);
    expect(actions.map((a) => (a.kind === "end_of_turn" ? a.reason : a.kind))).toEqual(["max_wait"]);
  });

  test("a mid-sentence pause: speech resumes, the late answer for the old pause changes nothing, the turn goes on", () => {
    const endpointer = new Endpointer(() => testOptions());
    feed(endpointer, SPEECH, 800);
    feed(endpointer, SILENCE, 700);
    expect(kinds(feed(endpointer, SPEECH, 500))).toEqual(["resumed"]);
    expect(endpointer.modelAnswer(1, 0.99, null)).toEqual([]);
    expect(endpointer.inUtterance).toBe(true);
    expect(kinds(feed(endpointer, SILENCE, 200))).toEqual(["pause"]);
    expect(kinds(endpointer.modelAnswer(2, 0.99, 0.3))).toEqual(["end_of_turn"]);
  });

  test("eagerness sets how sure the model must be", () => {
    const ask = (eagerness: "low" | "high", probability: number) => {
      const endpointer = new Endpointer(() => testOptions({ endpointing: { eagerness } }));
      feed(endpointer, SPEECH, 600);
      feed(endpointer, SILENCE, 200);
      return kinds(endpointer.modelAnswer(1, probability, null));
    };
    expect(ask("high", 0.4)).toEqual(["end_of_turn"]);
    expect(ask("low", 0.6)).toEqual([]);
  });

  test("semantic mode: the words must end a sentence too; a half sentence is held until the maximum wait", () => {
    const endpointer = new Endpointer(() => testOptions());
    feed(endpointer, SPEECH, 800);
    feed(endpointer, SILENCE, 200);
    // Smart Turn is sure, but "set a timer for" scores 0.0004 on the text check (docs/turn-taking.md).
    expect(endpointer.modelAnswer(1, 0.95, 0.0004)).toEqual([]);
    expect(endpointer.inUtterance).toBe(true);
    const actions = feed(endpointer, SILENCE, 1800);
    expect(actions.map((a) => (a.kind === "end_of_turn" ? a.reason : a.kind))).toEqual(["max_wait"]);
  });

  test("semantic mode: a whole sentence ends the turn only when the audio agrees", () => {
    const whole = new Endpointer(() => testOptions());
    feed(whole, SPEECH, 800);
    feed(whole, SILENCE, 200);
    expect(kinds(whole.modelAnswer(1, 0.9, 0.3))).toEqual(["end_of_turn"]);
    const unsureAudio = new Endpointer(() => testOptions());
    feed(unsureAudio, SPEECH, 800);
    feed(unsureAudio, SILENCE, 200);
    expect(unsureAudio.modelAnswer(1, 0.2, 0.6)).toEqual([]);
  });

  test("eagerness sets how sure the text check must be", () => {
    const ask = (eagerness: "low" | "high" | "auto", textProbability: number) => {
      const endpointer = new Endpointer(() => testOptions({ endpointing: { eagerness } }));
      feed(endpointer, SPEECH, 600);
      feed(endpointer, SILENCE, 200);
      return kinds(endpointer.modelAnswer(1, 0.95, textProbability));
    };
    expect(ask("auto", 0.05)).toEqual(["end_of_turn"]);
    expect(ask("auto", 0.049)).toEqual([]);
    expect(ask("high", 0.03)).toEqual(["end_of_turn"]);
    expect(ask("low", 0.06)).toEqual([]);
  });

  test("barge-in speech is announced once per utterance, later without echo cancellation", () => {
    const withAec = new Endpointer(() => testOptions());
    expect(kinds(feed(withAec, SPEECH, 320))).toEqual(["speech_started", "barge_in_speech"]);
    expect(kinds(feed(withAec, SPEECH, 320))).toEqual([]);
    const withoutAec = new Endpointer(() => testOptions({ interruption: { echoCancellation: false } }));
    expect(kinds(feed(withoutAec, SPEECH, 320))).toEqual(["speech_started"]);
    expect(kinds(feed(withoutAec, SPEECH, 320))).toEqual(["barge_in_speech"]);
  });

  test("frames between the threshold and the hysteresis band change nothing", () => {
    const endpointer = new Endpointer(() => testOptions({ endpointing: { mode: "silence" } }));
    feed(endpointer, SPEECH, 500);
    expect(feed(endpointer, 0.4, 2000)).toEqual([]);
    expect(endpointer.inUtterance).toBe(true);
  });
});
