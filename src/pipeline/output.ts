/**
 * The end of the pipeline: turns events into protocol messages for the client, tells turn-taking
 * what went out (it keeps each turn's books), and closes each turn: the reply stored whole, or
 * truncated to what the user heard when interrupted.
 *
 * Reply audio is paced to real time, at most `audioLeadMs` ahead of the client's playout, as a
 * person hears it. Synthesis runs far faster than speech; without pacing a whole reply would be
 * sent (and the turn over) before the user could barge in on it. A paused reply sends nothing until
 * it resumes.
 */
import type { Logger } from "pino";
import type { OutgoingMessage } from "../protocol/messages";
import { durationMs, float32ToPcm16 } from "../audio/pcm";
import { resampleSpeech } from "../audio/resampler";
import type { EventOf, PipelineEvent } from "./events";
import type { PipelineStore, ReplyProgress } from "./ports";
import type { ResolvedSettings } from "./settings";
import type { ReplyReporter } from "./turn-taking/turn-taking";
import type { TurnView } from "./turn-taking/turn";

export interface ReplyOutputDeps {
  send: (message: OutgoingMessage) => void;
  /** The session cannot go on (a fatal error was sent): the connection ends it. */
  sessionOver: (reason: string) => void;
  store: PipelineStore;
  /** Turn-taking: the one writer of turns, told what was generated and sent. */
  reporter: ReplyReporter;
  conversationId: () => string;
  settings: () => ResolvedSettings;
  /** Largest audio payload per response_audio message, in bytes of PCM (the seed's 8 KiB chunks). */
  chunkBytes: number;
  /** How far audio may run ahead of real-time playout (the client's jitter buffer). */
  audioLeadMs: number;
  log: Logger;
  /** The reply's progress in Redis, for the session's next owner should this instance die mid-reply. */
  journal: {
    record(progress: ReplyProgress): void;
    /** False when another instance took the reply over (and stores it). */
    claim(turnId: string): Promise<boolean>;
  };
}

export class ReplyOutput {
  /** Turns whose final messages are still being stored; shutdown waits for them. */
  private readonly closing = new Set<Promise<void>>();
  /** Per turn, the paced delivery of its audio and then its completion, in order. */
  private readonly playouts = new Map<string, Promise<void>>();
  /** Per turn, the storing of the user's message: the reply is stored after it. */
  private readonly userMessages = new Map<string, Promise<unknown>>();
  /** Turns whose user message is stored: from then on their progress is journaled. */
  private readonly journaled = new Set<string>();

  constructor(private readonly deps: ReplyOutputDeps) {}

  handle = (event: PipelineEvent): void => {
    const { send, reporter } = this.deps;
    switch (event.kind) {
      case "speech_started":
        return send({ type: "vad_status", data: { speaking: true } });
      case "speech_stopped":
        return send({ type: "vad_status", data: { speaking: false } });
      case "transcript": {
        const { text, isFinal, confidence } = event.transcript;
        return send({ type: "transcription", data: { text, is_final: isFinal, confidence } });
      }
      case "turn_started": {
        const { turn, userMessageStored } = event;
        this.userMessages.set(turn.id, userMessageStored);
        void userMessageStored.then(() => {
          if (this.userMessages.has(turn.id)) this.journaled.add(turn.id);
        });
        return;
      }
      case "llm_delta":
        reporter.replyText(event.turn, event.text);
        send({ type: "response_text", data: { turn_id: event.turn.id, text: event.text, is_final: false } });
        return this.journal(event.turn);
      case "llm_done":
        return send({ type: "response_text", data: { turn_id: event.turn.id, text: "", is_final: true } });
      case "sentence":
        return reporter.sentenceReady(event.turn);
      case "tts_audio":
        return this.afterPlayout(event.turn, () => this.sendAudio(event));
      case "tts_done":
        return this.afterPlayout(event.turn, () => this.complete(event.turn));
      case "reply_paused":
        return send({ type: "response_paused", data: { turn_id: event.turn.id } });
      case "reply_resumed":
        return send({ type: "response_resumed", data: { turn_id: event.turn.id } });
      case "interrupt":
        return this.track(this.interrupted(event.turn, event.reason));
      case "error":
        return this.failed(event);
    }
  };

  /** Whether reply audio is still being delivered or a finished turn is still being stored. */
  get busy(): boolean {
    return this.closing.size > 0;
  }

  /** Resolves when every turn that ended has been stored. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.closing]);
  }

  private track(work: Promise<void>): void {
    this.closing.add(work);
    void work.finally(() => this.closing.delete(work));
  }

  private afterPlayout(turn: TurnView, work: () => Promise<void>): void {
    const previous = this.playouts.get(turn.id) ?? Promise.resolve();
    const next = previous.then(work).catch((error) => this.deps.log.error({ err: error, turn_id: turn.id }, "reply delivery failed"));
    this.playouts.set(turn.id, next);
    this.track(next);
    void next.finally(() => {
      if (this.playouts.get(turn.id) === next) this.playouts.delete(turn.id);
    });
  }

  /** Waits while the reply is paused, then until sending more keeps it within audioLeadMs of playout. */
  private async pace(turn: TurnView): Promise<void> {
    await turn.whilePaused();
    const ahead = turn.sentAudioMs - turn.playedOutMs();
    if (turn.sentAudioMs > 0 && ahead > this.deps.audioLeadMs) await Bun.sleep(ahead - this.deps.audioLeadMs);
    await turn.whilePaused();
  }

  private async sendAudio(event: EventOf<"tts_audio">): Promise<void> {
    const { turn } = event;
    const rate = this.deps.settings().outputSampleRate;
    const pcm = float32ToPcm16(await resampleSpeech(event.samples, event.sampleRate, rate));
    const step = this.deps.chunkBytes - (this.deps.chunkBytes % 2);
    for (let offset = 0; offset < pcm.byteLength; offset += step) {
      await this.pace(turn);
      if (turn.cancelled) return;
      const piece = pcm.subarray(offset, offset + step);
      const ms = durationMs(piece.byteLength / 2, rate);
      this.deps.reporter.audioSent(turn, { index: event.index, text: event.text }, ms, event.cached);
      this.deps.send({
        type: "response_audio",
        data: {
          turn_id: turn.id,
          audio_data: Buffer.from(piece).toString("base64"),
          is_final: false,
          sample_rate: rate,
          format: "pcm_s16le",
          duration_ms: Math.round(ms * 10) / 10,
        },
      });
      this.journal(turn);
    }
  }

  /** Records what the client has of the reply so far (not before its user message is stored: nothing to answer yet). */
  private journal(turn: TurnView): void {
    if (!this.journaled.has(turn.id) || turn.cancelled) return;
    const heard = turn.delivered();
    this.deps.journal.record({ turnId: turn.id, heardText: heard.text, heardMs: heard.ms, text: turn.text, tokens: turn.tokens });
  }

  private async complete(turn: TurnView): Promise<void> {
    await turn.whilePaused();
    if (!this.deps.reporter.replyDone(turn)) return;
    const rate = this.deps.settings().outputSampleRate;
    this.deps.send({
      type: "response_audio",
      data: { turn_id: turn.id, audio_data: "", is_final: true, sample_rate: rate, format: "pcm_s16le", duration_ms: 0 },
    });
    await this.storeReply(turn, turn.text.trim(), false);
    this.deps.send({
      type: "response_complete",
      data: { turn_id: turn.id, text: turn.text.trim(), latency: turn.latency(), cached_audio: turn.cachedAudio && turn.sentAudioMs > 0 },
    });
  }

  private async interrupted(turn: TurnView, reason: "barge_in" | "client"): Promise<void> {
    const heard = turn.heard();
    this.deps.send({ type: "interrupted", data: { turn_id: turn.id, heard_text: heard.text, heard_ms: heard.ms, reason } });
    // A reply interrupted before it began (its user message not yet being stored) leaves nothing to store.
    if (this.userMessages.has(turn.id)) await this.storeReply(turn, heard.text, true);
  }

  private failed(event: EventOf<"error">): void {
    if (event.turn) this.deps.reporter.replyFailed(event.turn);
    this.deps.send({ type: "error", data: { code: event.code, message: event.message, recoverable: !event.fatal } });
    if (event.fatal) this.deps.sessionOver(event.message);
  }

  private async storeReply(turn: TurnView, content: string, interrupted: boolean): Promise<void> {
    try {
      await this.userMessages.get(turn.id);
      this.journaled.delete(turn.id);
      if (!(await this.deps.journal.claim(turn.id))) {
        this.deps.log.info({ turn_id: turn.id }, "the reply was taken over by the session's new owner, which stores it");
        return;
      }
      await this.deps.store.appendMessage(this.deps.conversationId(), {
        role: "assistant",
        content,
        interrupted,
        tokensUsed: turn.tokens,
        processingTimeMs: Math.round(performance.now() - turn.origin),
        metadata: { turn_id: turn.id, latency: turn.latency(), ...(interrupted ? { full_text: turn.text } : {}) },
      });
    } catch (error) {
      this.deps.log.error({ err: error, turn_id: turn.id }, "storing the reply failed");
      this.deps.send({ type: "error", data: { code: "storage_failed", message: "the reply could not be stored", recoverable: true } });
    } finally {
      this.userMessages.delete(turn.id);
      this.journaled.delete(turn.id);
    }
  }
}
