/**
 * Feeds client audio to the VAD model without falling behind it. While one request is in flight,
 * later chunks gather and go as one request, so a slow model (a busy machine) gets fewer, longer
 * requests instead of a queue that grows for the whole session. Each frame that comes back keeps
 * the arrival time of the chunk that completed it, so "the end of speech" stays the moment the
 * last voiced audio arrived.
 */
import type { VadFrame, VadStream } from "../../inference/types";
import { concatSamples } from "../../audio/pcm";

const SAMPLES_PER_MS = 16;

export interface TimedAudio {
  samples: Float32Array;
  receivedAt: number;
}

export interface VadFeedHooks {
  /** The audio of one request and its frames, each with the arrival time of the chunk that completed it. */
  frames(audio: Float32Array, frames: { frame: VadFrame; receivedAt: number }[]): void;
  failed(error: unknown): void;
}

export class VadFeed {
  private pending: TimedAudio[] = [];
  /** Samples the model holds that do not fill a frame yet. */
  private carried = 0;
  private running?: Promise<void>;
  /** Aborts the request in flight when the feed is cancelled. */
  private readonly abort = new AbortController();

  constructor(
    private readonly stream: () => VadStream,
    private readonly hooks: VadFeedHooks,
  ) {}

  push(chunk: TimedAudio): void {
    if (this.abort.signal.aborted) return;
    this.pending.push(chunk);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /**
   * Drops the audio not yet sent and aborts the request in flight (the session is ending): nothing
   * waits for a VAD that does not answer. Later pushes are ignored.
   */
  cancel(): void {
    this.pending = [];
    this.abort.abort(new Error("the session ended"));
  }

  /** Audio is waiting or a request is in flight. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** The next push goes to a fresh VAD sequence: nothing is carried over from the old one. */
  restart(): void {
    this.carried = 0;
  }

  /** Resolves once every chunk pushed so far has been answered. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const audio = concatSamples(batch.map((c) => c.samples));
      let frames: VadFrame[];
      try {
        frames = await this.stream().push(audio, this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.carried = 0;
        this.hooks.failed(error);
        continue;
      }
      this.hooks.frames(audio, this.timed(batch, frames));
    }
  }

  /** Frame k ends at sample (k + 1) × frame − carried of this batch; it takes that chunk's arrival. */
  private timed(batch: TimedAudio[], frames: VadFrame[]): { frame: VadFrame; receivedAt: number }[] {
    const total = batch.reduce((n, c) => n + c.samples.length, 0);
    let end = -this.carried;
    let chunk = 0;
    let chunkEnd = batch[0]!.samples.length;
    const timed = frames.map((frame) => {
      end += frame.durationMs * SAMPLES_PER_MS;
      while (chunk < batch.length - 1 && end > chunkEnd) chunkEnd += batch[++chunk]!.samples.length;
      return { frame, receivedAt: batch[chunk]!.receivedAt };
    });
    this.carried = Math.max(0, this.carried + total - Math.max(0, end + this.carried));
    return timed;
  }
}
