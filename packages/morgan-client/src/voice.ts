/**
 * Plays a session's replies: feeds `response_audio` into the jitter buffer at the session's output
 * rate, pauses on `response_paused` (the user started speaking over it) and plays on after
 * `response_resumed`, silences it and drops what is buffered the moment `interrupted` arrives (or the
 * user interrupts locally), ignores any later audio of a stopped turn, and reports the played position
 * (`playback`) while a reply plays, so the server's `heard_text` is what was actually heard.
 */
import type { MorganClient } from "./client";
import { Emitter } from "./emitter";
import { base64PcmToFloat } from "./pcm";
import { type AudioOutput, PlaybackQueue } from "./playback";

export interface ReplyPlayerOptions {
  jitterBufferMs?: number;
  /** How often the played position is reported while a reply plays. */
  reportEveryMs?: number;
}

export type ReplyPlayerEvents = {
  /** A chunk was queued: it starts at `startsAt` on the output clock (null while paused), `samples` at `sampleRate`. */
  scheduled: { turnId: string; samples: number; sampleRate: number; startsAt: number | null };
  /** The reply was paused (`response_paused`) or plays on (`response_resumed`). */
  paused: { turnId: string; paused: boolean };
  /** Playback of a turn was cut: by the server (`interrupted`) or locally (`interrupt()`). */
  stopped: { turnId: string; playedMs: number; by: "server" | "client" };
};

export class ReplyPlayer extends Emitter<ReplyPlayerEvents> {
  readonly queue: PlaybackQueue;
  /** The reply whose position the server wants: audio received, not yet complete or stopped. */
  #current?: string;
  readonly #stopped = new Set<string>();
  #lastReported = -1;
  readonly #offs: (() => void)[];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly client: MorganClient,
    output: AudioOutput,
    options: ReplyPlayerOptions = {},
  ) {
    super();
    this.queue = new PlaybackQueue(output, { jitterBufferMs: options.jitterBufferMs });
    this.#offs = [
      client.on("response_audio", (m) => this.#onAudio(m.data)),
      client.on("response_paused", (m) => this.#pause(m.data.turn_id, true)),
      client.on("response_resumed", (m) => this.#pause(m.data.turn_id, false)),
      client.on("interrupted", (m) => this.#halt(m.data.turn_id, "server")),
      client.on("response_complete", (m) => {
        if (this.#current === m.data.turn_id) this.#current = undefined;
      }),
    ];
    this.#timer = setInterval(() => this.#report(), options.reportEveryMs ?? 200);
  }

  /** Barge-in from the user's side: silence now, tell the server what was heard, then interrupt. */
  interrupt(): void {
    const turnId = this.#current;
    if (turnId) {
      this.#report();
      this.#halt(turnId, "client");
    } else {
      this.queue.stop();
    }
    if (this.client.state === "connected") this.client.send({ type: "interrupt" });
  }

  dispose(): void {
    clearInterval(this.#timer);
    for (const off of this.#offs) off();
    this.queue.stop();
  }

  #onAudio(data: { turn_id: string; audio_data: string; sample_rate: number; is_final: boolean }): void {
    if (this.#stopped.has(data.turn_id) || data.audio_data === "") return;
    const samples = base64PcmToFloat(data.audio_data);
    this.#current = data.turn_id;
    const startsAt = this.queue.enqueue(data.turn_id, samples, data.sample_rate);
    this.emit("scheduled", { turnId: data.turn_id, samples: samples.length, sampleRate: data.sample_rate, startsAt });
  }

  #pause(turnId: string, paused: boolean): void {
    if (this.#stopped.has(turnId)) return;
    if (paused) this.queue.pause();
    else this.queue.resume();
    this.emit("paused", { turnId, paused });
  }

  #halt(turnId: string, by: "server" | "client"): void {
    if (this.#stopped.has(turnId)) return;
    this.#stopped.add(turnId);
    this.queue.stop();
    const playedMs = this.queue.playedMs(turnId);
    if (this.#current === turnId) this.#current = undefined;
    this.emit("stopped", { turnId, playedMs, by });
  }

  #report(): void {
    const turnId = this.#current;
    if (!turnId || this.client.state !== "connected") return;
    const playedMs = this.queue.playedMs(turnId);
    if (playedMs === this.#lastReported) return;
    this.#lastReported = playedMs;
    this.client.send({ type: "playback", data: { played_ms: playedMs } });
  }
}
