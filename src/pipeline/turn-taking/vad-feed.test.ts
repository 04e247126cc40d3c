import { expect, test } from "bun:test";
import type { VadFrame, VadStream } from "../../inference/types";
import { VadFeed } from "./vad-feed";

/** A VAD stream that answers after `delayMs` with one frame per complete 512 samples, carrying the rest. */
function slowStream(delayMs: number) {
  const requests: number[] = [];
  let carried = 0;
  const stream: VadStream = {
    push: async (samples) => {
      requests.push(samples.length);
      await Bun.sleep(delayMs);
      const frames: VadFrame[] = [];
      for (carried += samples.length; carried >= 512; carried -= 512) frames.push({ probability: 0.5, durationMs: 32 });
      return frames;
    },
    close: async () => {},
  };
  return { stream, requests };
}

test("chunks that arrive while a request is in flight go together as one request, and no frame is lost", async () => {
  const { stream, requests } = slowStream(30);
  const seen: number[] = [];
  const feed = new VadFeed(() => stream, { frames: (_audio, frames) => seen.push(...frames.map((f) => f.receivedAt)), failed: () => {} });
  for (let i = 0; i < 50; i++) feed.push({ samples: new Float32Array(320), receivedAt: i });
  await feed.idle();
  expect(requests.length).toBe(2);
  expect(requests.reduce((a, b) => a + b)).toBe(50 * 320);
  expect(seen.length).toBe(Math.floor((50 * 320) / 512));
});

test("each frame takes the arrival time of the chunk holding its last sample, across requests", async () => {
  const { stream } = slowStream(1);
  const times: number[] = [];
  const feed = new VadFeed(() => stream, { frames: (_audio, frames) => times.push(...frames.map((f) => f.receivedAt)), failed: () => {} });
  // 320-sample chunks: frame 1 ends at sample 512 (chunk 1), frame 2 at 1024 (chunk 3), frame 3 at 1536 (chunk 4).
  for (let i = 0; i < 5; i++) {
    feed.push({ samples: new Float32Array(320), receivedAt: 100 + i });
    await feed.idle();
  }
  expect(times).toEqual([101, 103, 104]);
});

test("a failed request is reported and the feed goes on", async () => {
  let fail = true;
  const failures: unknown[] = [];
  let frames = 0;
  const stream: VadStream = {
    push: async (samples) => {
      if (fail) throw new Error("down");
      return Array.from({ length: Math.floor(samples.length / 512) }, () => ({ probability: 0.1, durationMs: 32 }));
    },
    close: async () => {},
  };
  const feed = new VadFeed(() => stream, { frames: (_a, f) => (frames += f.length), failed: (e) => failures.push(e) });
  feed.push({ samples: new Float32Array(1024), receivedAt: 0 });
  await feed.idle();
  fail = false;
  feed.push({ samples: new Float32Array(1024), receivedAt: 1 });
  await feed.idle();
  expect(failures.length).toBe(1);
  expect(frames).toBe(2);
});

test("cancel aborts the request in flight and drops what waits: nothing is reported and idle resolves at once", async () => {
  const requests: AbortSignal[] = [];
  const stream: VadStream = {
    // Answers only when aborted, as a Triton with no free sequence slot does until its deadline.
    push: (_samples, signal) =>
      new Promise((_resolve, reject) => {
        requests.push(signal!);
        signal!.addEventListener("abort", () => reject(signal!.reason));
      }),
    close: async () => {},
  };
  const reported: string[] = [];
  const feed = new VadFeed(() => stream, { frames: () => reported.push("frames"), failed: () => reported.push("failed") });
  for (let i = 0; i < 10; i++) feed.push({ samples: new Float32Array(320), receivedAt: i });
  await Bun.sleep(5);
  const started = performance.now();
  feed.cancel();
  await feed.idle();
  expect(performance.now() - started).toBeLessThan(100);
  expect(requests.length).toBe(1);
  expect(requests[0]!.aborted).toBe(true);
  feed.push({ samples: new Float32Array(320), receivedAt: 99 });
  expect(feed.busy).toBe(false);
  expect(reported).toEqual([]);
});
