import { describe, expect, test } from "bun:test";
import { type Observation, Observers } from "./events";

const sent: Observation = { type: "message_sent" };
const closed: Observation = { type: "connection_closed", code: 1000 };

describe("Observers", () => {
  test("delivers each observation to the observers of its type and to those of every type", () => {
    const observers = new Observers();
    const typed: Observation[] = [];
    const all: Observation[] = [];
    observers.add({ types: ["message_sent"], observe: (o) => typed.push(o) });
    observers.add({ observe: (o) => all.push(o) });
    observers.observe(sent);
    observers.observe(closed);
    expect(typed).toEqual([sent]);
    expect(all).toEqual([sent, closed]);
  });

  test("wants() tells an emitter whether anyone listens, so a hot path can skip building the observation", () => {
    const observers = new Observers();
    expect(observers.wants("stage_event")).toBe(false);
    const remove = observers.add({ types: ["stage_event"], observe: () => {} });
    expect(observers.wants("stage_event")).toBe(true);
    expect(observers.wants("message_sent")).toBe(false);
    remove();
    expect(observers.wants("stage_event")).toBe(false);
  });

  test("stage events of microphone audio reach only the observers that ask for them", () => {
    const observers = new Observers();
    const plain: string[] = [];
    const withAudio: string[] = [];
    observers.add({ types: ["stage_event"], observe: (o) => o.type === "stage_event" && plain.push(o.kind) });
    expect(observers.wantsAudio()).toBe(false);
    observers.add({ audio: true, observe: (o) => o.type === "stage_event" && withAudio.push(o.kind) });
    expect(observers.wantsAudio()).toBe(true);
    for (const kind of ["audio", "speech_started"]) observers.observe({ type: "stage_event", sessionId: "s", from: "vad", to: "stt", position: 1, kind, produced: true, at: 0 });
    expect(plain).toEqual(["speech_started"]);
    expect(withAudio).toEqual(["audio", "speech_started"]);
  });

  test("an observer that throws is reported and disturbs neither the emitter nor the others", () => {
    const failures: unknown[] = [];
    const observers = new Observers((error) => failures.push(error));
    const after: Observation[] = [];
    observers.add({
      observe: () => {
        throw new Error("broken observer");
      },
    });
    observers.add({ observe: (o) => after.push(o) });
    expect(() => observers.observe(sent)).not.toThrow();
    expect(after).toEqual([sent]);
    expect(String(failures[0])).toContain("broken observer");
  });

  test("readings add up over their providers and read 0 without one", () => {
    const observers = new Observers();
    expect(observers.read("active_sessions")).toBe(0);
    let a = 2;
    observers.provide("active_sessions", () => a);
    const remove = observers.provide("active_sessions", () => 3);
    expect(observers.read("active_sessions")).toBe(5);
    a = 4;
    remove();
    expect(observers.read("active_sessions")).toBe(4);
  });
});
