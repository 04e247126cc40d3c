/**
 * The reply's jitter buffer and playout clock, over a small AudioOutput interface (Web Audio in the
 * browser, web-audio.ts; a fake clock in tests).
 *
 * Chunks are scheduled back to back on the output clock. The first chunk of a reply, and the first
 * after an underrun or a pause, start `jitterBufferMs` late, so audio arriving a little late still
 * plays without a gap. `playedMs` is read from the same schedule, so the position reported to the
 * server (`playback`) counts exactly what came out of the speaker, gaps and pauses excluded. `pause`
 * silences what is scheduled and keeps the unplayed rest (and what arrives meanwhile) for `resume`;
 * `stop` silences everything at once and drops the rest.
 */
export interface PlayingSound {
  stop(): void;
}

export interface AudioOutput {
  /** The output clock, in seconds (AudioContext.currentTime). */
  readonly currentTime: number;
  /** Plays mono samples at `sampleRate` from `when` on the output clock. */
  play(samples: Float32Array, sampleRate: number, when: number): PlayingSound;
}

interface Chunk {
  turnId: string;
  samples: Float32Array;
  sampleRate: number;
}

interface Scheduled extends Chunk {
  start: number;
  seconds: number;
  sound: PlayingSound;
}

export interface PlaybackOptions {
  /** Extra delay before a reply (or after an underrun or a pause) starts, absorbing network jitter. */
  jitterBufferMs?: number;
}

export class PlaybackQueue {
  readonly #output: AudioOutput;
  readonly #jitterS: number;
  #scheduled: Scheduled[] = [];
  /** While paused: the unplayed audio, in order, waiting for `resume`. */
  #held: Chunk[] | undefined;
  #nextStart = 0;
  /** Played seconds per turn of chunks no longer in the schedule. */
  readonly #played = new Map<string, number>();
  /** Samples queued for playback since the queue was made (at their own rate). */
  scheduledSamples = 0;
  underruns = 0;

  constructor(output: AudioOutput, options: PlaybackOptions = {}) {
    this.#output = output;
    this.#jitterS = (options.jitterBufferMs ?? 50) / 1000;
  }

  /**
   * Queues a chunk of `turnId`'s reply after what is queued. Returns when it starts on the output
   * clock (s), or null while paused (it is held for `resume`).
   */
  enqueue(turnId: string, samples: Float32Array, sampleRate: number): number | null {
    this.scheduledSamples += samples.length;
    if (!this.#held) return this.#schedule({ turnId, samples, sampleRate }, true);
    this.#held.push({ turnId, samples, sampleRate });
    return null;
  }

  /** Milliseconds of `turnId` that have come out of the speaker so far. */
  playedMs(turnId: string): number {
    const now = this.#output.currentTime;
    let seconds = this.#played.get(turnId) ?? 0;
    for (const s of this.#scheduled) if (s.turnId === turnId) seconds += clamp(now - s.start, 0, s.seconds);
    return Math.round(seconds * 1000);
  }

  /** True while sound is scheduled beyond now. */
  get playing(): boolean {
    return this.#scheduled.length > 0 && this.#nextStart > this.#output.currentTime;
  }

  get paused(): boolean {
    return this.#held !== undefined;
  }

  /** Silences what is scheduled now and keeps the unplayed rest for `resume`. */
  pause(): void {
    if (this.#held) return;
    const now = this.#output.currentTime;
    const rest: Chunk[] = [];
    for (const s of this.#scheduled) {
      s.sound.stop();
      const played = clamp(now - s.start, 0, s.seconds);
      this.#record(s.turnId, played);
      const from = Math.round(played * s.sampleRate);
      if (from < s.samples.length) rest.push({ turnId: s.turnId, samples: s.samples.subarray(from), sampleRate: s.sampleRate });
    }
    this.#scheduled = [];
    this.#nextStart = now;
    this.#held = rest;
  }

  /** Plays on from where `pause` stopped, then whatever arrived meanwhile. */
  resume(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    for (const chunk of held) this.#schedule(chunk, false);
  }

  /** Silences everything now and drops what is queued or held. */
  stop(): void {
    const now = this.#output.currentTime;
    for (const s of this.#scheduled) {
      s.sound.stop();
      this.#record(s.turnId, clamp(now - s.start, 0, s.seconds));
    }
    this.#scheduled = [];
    this.#held = undefined;
    this.#nextStart = now;
  }

  #schedule(chunk: Chunk, fresh: boolean): number {
    const now = this.#output.currentTime;
    this.#forgetPlayed(now);
    if (this.#scheduled.length === 0 || this.#nextStart < now) {
      if (fresh && this.#played.has(chunk.turnId)) this.underruns += 1;
      this.#nextStart = now + this.#jitterS;
    }
    const start = this.#nextStart;
    const seconds = chunk.samples.length / chunk.sampleRate;
    this.#scheduled.push({ ...chunk, start, seconds, sound: this.#output.play(chunk.samples, chunk.sampleRate, start) });
    this.#nextStart = start + seconds;
    this.#record(chunk.turnId, 0);
    return start;
  }

  #record(turnId: string, seconds: number): void {
    this.#played.set(turnId, (this.#played.get(turnId) ?? 0) + seconds);
  }

  /** Moves finished chunks into #played. */
  #forgetPlayed(now: number): void {
    this.#scheduled = this.#scheduled.filter((s) => {
      if (now < s.start + s.seconds) return true;
      this.#record(s.turnId, s.seconds);
      return false;
    });
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
