import { describe, expect, test } from "bun:test";
import { PlaybackQueue } from "./playback";
import { FakeOutput } from "./testing/fake-output";

const chunk = (ms: number, rate = 16000) => new Float32Array((rate * ms) / 1000);

describe("PlaybackQueue", () => {
  test("a reply starts after the jitter buffer and its chunks play back to back", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 100 });
    expect(queue.enqueue("t1", chunk(200), 16000)).toBeCloseTo(0.1);
    output.advance(50);
    expect(queue.enqueue("t1", chunk(200), 16000)).toBeCloseTo(0.3);
    expect(output.sounds.map((s) => s.when)).toEqual([0.1, 0.30000000000000004]);
    expect(queue.playedMs("t1")).toBe(0);
    output.advance(150);
    expect(queue.playedMs("t1")).toBe(100);
    output.advance(1000);
    expect(queue.playedMs("t1")).toBe(400);
    expect(queue.playing).toBe(false);
    expect(queue.scheduledSamples).toBe(6400);
  });

  test("plays each chunk at its own rate (the session's output rate)", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 0 });
    queue.enqueue("t1", chunk(100, 24000), 24000);
    expect(output.sounds[0]).toMatchObject({ samples: 2400, sampleRate: 24000 });
    expect(queue.enqueue("t1", chunk(100, 24000), 24000)).toBeCloseTo(0.1);
  });

  test("after an underrun it buffers again, and the silent gap is not counted as played", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 50 });
    queue.enqueue("t1", chunk(100), 16000);
    output.advance(300); // the next chunk is 150 ms late
    expect(queue.enqueue("t1", chunk(100), 16000)).toBeCloseTo(0.35);
    expect(queue.underruns).toBe(1);
    output.advance(100);
    expect(queue.playedMs("t1")).toBe(150);
  });

  test("stop silences every scheduled chunk at once and keeps what was played", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 0 });
    for (let i = 0; i < 5; i++) queue.enqueue("t1", chunk(200), 16000);
    output.advance(250);
    expect(queue.playing).toBe(true);
    queue.stop();
    expect(queue.playedMs("t1")).toBe(250);
    expect(queue.playing).toBe(false);
    expect(output.sounds.slice(1).every((s) => s.stoppedAt === 0.25)).toBe(true);
    output.advance(1000);
    expect(queue.playedMs("t1")).toBe(250);
  });

  test("positions are kept per turn", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 0 });
    queue.enqueue("t1", chunk(100), 16000);
    queue.enqueue("t2", chunk(100), 16000);
    output.advance(150);
    expect(queue.playedMs("t1")).toBe(100);
    expect(queue.playedMs("t2")).toBe(50);
  });

  test("pause keeps the unplayed rest; resume plays it from where it stopped, then what arrived meanwhile", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 0 });
    queue.enqueue("t1", chunk(200), 16000);
    queue.enqueue("t1", chunk(200), 16000);
    output.advance(150);
    queue.pause();
    expect(queue.paused).toBe(true);
    expect(queue.playing).toBe(false);
    expect(output.sounds.every((s) => s.stoppedAt === 0.15)).toBe(true);
    expect(queue.enqueue("t1", chunk(100), 16000)).toBeNull();
    output.advance(1000);
    expect(queue.playedMs("t1")).toBe(150);
    queue.resume();
    const resumed = output.sounds.slice(2);
    expect(resumed.map((s) => s.samples)).toEqual([800, 3200, 1600]);
    expect(resumed.map((s) => Math.round(s.when * 1000))).toEqual([1150, 1200, 1400]);
    output.advance(500);
    expect(queue.playedMs("t1")).toBe(500);
    expect(queue.scheduledSamples).toBe(8000);
  });

  test("stop drops what a pause was holding", () => {
    const output = new FakeOutput();
    const queue = new PlaybackQueue(output, { jitterBufferMs: 0 });
    queue.enqueue("t1", chunk(200), 16000);
    queue.pause();
    queue.stop();
    queue.resume();
    expect(output.sounds.length).toBe(1);
    expect(queue.paused).toBe(false);
  });
});
