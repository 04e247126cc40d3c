/**
 * One exchange: what the user said and Morgan's reply to it, with the timestamps that make the
 * latency report and the bookkeeping that says what the user actually heard when interrupted.
 */
import { randomUUID } from "node:crypto";
import type { LatencyReport } from "../protocol/messages";

export type TurnSource = "voice" | "text";
export type TurnState = "running" | "complete" | "interrupted" | "failed";
type Mark = "sttFinal" | "llmFirstToken" | "firstSentence" | "ttsFirstChunk" | "lastChunk";

interface SpokenSentence {
  text: string;
  audioMs: number;
}

export class Turn {
  readonly id = randomUUID();
  private readonly controller = new AbortController();
  private readonly marks = new Map<Mark, number>();
  state: TurnState = "running";
  /** The reply as generated so far. */
  text = "";
  tokens = 0;
  /** Audio sent to the client, sentence by sentence, in order. */
  readonly spoken: SpokenSentence[] = [];
  /** What the client reports it has played, when it reports at all. */
  playedMs?: number;
  /** performance.now() when the first audio of the reply went out: the start of its playout. */
  firstAudioAt?: number;
  cachedAudio = true;
  /** Resolves once the user's message is durable, so the reply is stored after it. */
  userMessageStored: Promise<unknown> = Promise.resolve();

  constructor(
    readonly source: TurnSource,
    readonly userText: string,
    /** performance.now() at end of speech (voice) or receipt (text): the zero of the latency report. */
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

  cancel(reason: string): void {
    if (!this.cancelled) this.controller.abort(new Error(reason));
  }

  mark(name: Mark, at = performance.now()): void {
    if (!this.marks.has(name)) this.marks.set(name, at);
  }

  /** Marks a stage that may happen more than once; the last time wins (the last audio chunk). */
  markLast(name: Mark, at = performance.now()): void {
    this.marks.set(name, at);
  }

  latency(): LatencyReport {
    const since = (name: Mark) => {
      const at = this.marks.get(name);
      return at === undefined ? null : Math.round((at - this.origin) * 10) / 10;
    };
    return {
      endpointing_ms: this.endpointingMs === null ? null : Math.round(this.endpointingMs * 10) / 10,
      stt_final_ms: since("sttFinal"),
      llm_first_token_ms: since("llmFirstToken"),
      first_sentence_ms: since("firstSentence"),
      tts_first_chunk_ms: since("ttsFirstChunk"),
      last_chunk_ms: since("lastChunk"),
    };
  }

  recordAudioSent(sentenceIndex: number, sentenceText: string, audioMs: number): void {
    const entry = (this.spoken[sentenceIndex] ??= { text: sentenceText, audioMs: 0 });
    entry.audioMs += audioMs;
  }

  get sentAudioMs(): number {
    return this.spoken.reduce((sum, s) => sum + (s?.audioMs ?? 0), 0);
  }

  /**
   * What the user heard: whole sentences up to the played position, then the share of the words of
   * the sentence playing at that moment. Uses the client's `playback` report when it sent one, else
   * the time since playout began; never more than was sent.
   */
  heard(now = performance.now()): { text: string; ms: number } {
    const sinceFirstAudio = this.firstAudioAt === undefined ? 0 : now - this.firstAudioAt;
    const ms = Math.min(this.playedMs ?? sinceFirstAudio, this.sentAudioMs);
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
