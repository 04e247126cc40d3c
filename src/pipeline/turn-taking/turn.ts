/**
 * One exchange: what the user said and Morgan's reply to it, with the timestamps that make the
 * latency report and the bookkeeping that says what the user actually heard when interrupted.
 *
 * Only the turn-taking module changes a Turn (it is the one writer); every other part of the pipeline
 * sees it as a `TurnView` and reports what happened through the module's hooks.
 */
import { randomUUID } from "node:crypto";
import type { LatencyReport } from "../../protocol/messages";

export type TurnSource = "voice" | "text";
/** running → (paused ⇄ running) → complete | interrupted | failed */
export type TurnState = "running" | "paused" | "complete" | "interrupted" | "failed";
export type TurnMark = "sttFinal" | "llmFirstToken" | "firstSentence" | "ttsFirstChunk" | "lastChunk";

interface SpokenSentence {
  text: string;
  audioMs: number;
}

/** What the rest of the pipeline may read of a turn. */
export interface TurnView {
  readonly id: string;
  readonly source: TurnSource;
  readonly userText: string;
  readonly state: TurnState;
  /** Aborted when the turn is cancelled: every request made for it stops. */
  readonly signal: AbortSignal;
  readonly cancelled: boolean;
  /** The reply as generated so far, and its token count. */
  readonly text: string;
  readonly tokens: number;
  /** Whether every sentence of the reply came from the TTS cache. */
  readonly cachedAudio: boolean;
  /** performance.now() at the end of the user's speech (voice) or receipt (text): the latency report's zero. */
  readonly origin: number;
  /** The user's speech, in ms of audio (voice turns), and the recogniser's confidence. */
  readonly audioMs: number;
  readonly confidence: number;
  /** Audio sent so far, in ms. */
  readonly sentAudioMs: number;
  latency(): LatencyReport;
  heard(now?: number): { text: string; ms: number };
  /** The words of all the audio sent so far: what the client will have played once its buffer runs out. */
  delivered(): { text: string; ms: number };
  /** Resolves at once while the reply plays, or when it resumes or ends if it is paused. */
  whilePaused(): Promise<void>;
  /** Playout time of the audio sent so far (excluding pauses); 0 before the first audio. */
  playedOutMs(now?: number): number;
}

export class Turn implements TurnView {
  readonly id = randomUUID();
  private readonly controller = new AbortController();
  private readonly marks = new Map<TurnMark, number>();
  private readonly spoken: SpokenSentence[] = [];
  private resumed?: { promise: Promise<void>; resolve: () => void };
  state: TurnState = "running";
  text = "";
  tokens = 0;
  cachedAudio = true;
  /** What the client reports it has played, when it reports at all. */
  private playedMs?: number;
  /** performance.now() when the first audio of the reply went out: the start of its playout. */
  private firstAudioAt?: number;
  private pausedAt?: number;
  private pausedTotalMs = 0;

  constructor(
    readonly source: TurnSource,
    readonly userText: string,
    readonly origin: number,
    /** From the end of speech to the end-of-turn decision (voice turns). */
    readonly endpointingMs: number | null = null,
    readonly audioMs = 0,
    readonly confidence = 1,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  get sentAudioMs(): number {
    return this.spoken.reduce((sum, s) => sum + (s?.audioMs ?? 0), 0);
  }

  cancel(reason: string): void {
    if (!this.cancelled) this.controller.abort(new Error(reason));
    this.resumed?.resolve();
  }

  mark(name: TurnMark, at = performance.now()): void {
    if (!this.marks.has(name)) this.marks.set(name, at);
  }

  /** A stage that happens more than once: the last time wins (the last audio chunk). */
  markLast(name: TurnMark, at = performance.now()): void {
    this.marks.set(name, at);
  }

  appendText(delta: string): void {
    this.text += delta;
    this.tokens += 1;
  }

  recordAudioSent(sentenceIndex: number, sentenceText: string, audioMs: number, cached: boolean, at = performance.now()): void {
    this.firstAudioAt ??= at;
    const entry = (this.spoken[sentenceIndex] ??= { text: sentenceText, audioMs: 0 });
    entry.audioMs += audioMs;
    if (!cached) this.cachedAudio = false;
  }

  reportPlayed(ms: number): void {
    this.playedMs = ms;
  }

  pause(at = performance.now()): void {
    if (this.state !== "running") return;
    this.state = "paused";
    this.pausedAt = at;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.resumed = { promise, resolve };
  }

  resume(at = performance.now()): void {
    if (this.state !== "paused") return;
    this.state = "running";
    this.pausedTotalMs += at - (this.pausedAt ?? at);
    this.pausedAt = undefined;
    this.resumed?.resolve();
    this.resumed = undefined;
  }

  /** Ends the turn in `state` (complete, interrupted or failed), closing any pause. */
  finish(state: Exclude<TurnState, "running" | "paused">, at = performance.now()): void {
    if (this.state === "paused") this.resume(at);
    this.state = state;
  }

  whilePaused(): Promise<void> {
    return this.resumed?.promise ?? Promise.resolve();
  }

  playedOutMs(now = performance.now()): number {
    if (this.firstAudioAt === undefined) return 0;
    const pausedNow = this.pausedAt === undefined ? 0 : now - this.pausedAt;
    return now - this.firstAudioAt - this.pausedTotalMs - pausedNow;
  }

  latency(): LatencyReport {
    const since = (name: TurnMark) => {
      const at = this.marks.get(name);
      return at === undefined ? null : round(at - this.origin);
    };
    return {
      endpointing_ms: this.endpointingMs === null ? null : round(this.endpointingMs),
      stt_final_ms: since("sttFinal"),
      llm_first_token_ms: since("llmFirstToken"),
      first_sentence_ms: since("firstSentence"),
      tts_first_chunk_ms: since("ttsFirstChunk"),
      last_chunk_ms: since("lastChunk"),
    };
  }

  /**
   * What the user heard: whole sentences up to the played position, then the share of the words of
   * the sentence playing at that moment. Uses the client's `playback` report when it sent one, else
   * the playout time (pauses excluded); never more than was sent.
   */
  heard(now = performance.now()): { text: string; ms: number } {
    return this.textUpTo(Math.max(0, Math.min(this.playedMs ?? this.playedOutMs(now), this.sentAudioMs)));
  }

  delivered(): { text: string; ms: number } {
    return this.textUpTo(this.sentAudioMs);
  }

  /** Whole sentences up to `ms` of the reply's audio, then the share of the words of the one playing at that moment. */
  private textUpTo(ms: number): { text: string; ms: number } {
    const parts: string[] = [];
    let remaining = ms;
    for (const sentence of this.spoken) {
      if (!sentence || remaining <= 0) break;
      if (remaining >= sentence.audioMs) {
        parts.push(sentence.text);
        remaining -= sentence.audioMs;
        continue;
      }
      const words = sentence.text.split(/\s+/);
      const count = Math.floor((words.length * remaining) / sentence.audioMs);
      if (count > 0) parts.push(words.slice(0, count).join(" "));
      break;
    }
    return { text: parts.join(" "), ms: Math.round(ms) };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
