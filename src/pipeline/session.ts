/**
 * One client's voice session: its settings, its pipeline, and the numbered stream of messages it
 * is sent. The data flow, in one place:
 *
 *   client audio → turn-taking (VAD, STT, end of turn, barge-in) → conversation → LLM → sentences → TTS → client
 *                  (typed text enters at turn-taking too)
 */
import type { Logger } from "pino";
import type { Models } from "../inference/types";
import { type ClientMessage, LIMITS, type OutgoingMessage } from "../protocol/messages";
import { pcm16ToFloat32, resample } from "../audio/pcm";
import { ReplyOutput } from "./output";
import type { Observers } from "../telemetry/events";
import type { PipelineStore, SessionSnapshot, SessionStatePort } from "./ports";
import { SessionObserver } from "./session-observer";
import { type ResolvedSettings, applySettings } from "./settings";
import { Pipeline } from "./stage";
import { ConversationStage } from "./stages/conversation";
import { LlmStage } from "./stages/llm";
import { SentenceStage } from "./stages/sentences";
import { TtsStage } from "./stages/tts";
import type { ChatTemplate } from "./text/chat-template";
import { TurnTaking } from "./turn-taking/turn-taking";
import { WriteBacklog } from "./write-backlog";

const MODEL_SAMPLE_RATE = 16000;

/**
 * Sequence numbers are reserved in Redis this many at a time (one round trip per half block). A
 * successor that takes the session over reserves above the last block, so its numbers exceed
 * anything this instance could have sent, even if it died without a word.
 */
export const SEQ_BLOCK = 1000;

export interface SessionDeps {
  models: Models;
  store: PipelineStore;
  state: SessionStatePort;
  log: Logger;
  /** Largest audio payload per response_audio message (stream_chunk_size). */
  chunkBytes: number;
  /** How far reply audio may run ahead of real-time playout. */
  audioLeadMs: number;
  /** Messages kept in memory for resume on this instance. */
  replayLimit: number;
  /** How the LLM expects a conversation to be written. */
  chatTemplate: ChatTemplate;
  observers: Observers;
  /** Conversation writes that may be under way at once; a turn beyond them is refused (quotas.maxPendingWrites). */
  maxPendingWrites: number;
}

/** Where a session's messages go while a client is connected. */
export interface Transport {
  send(json: string): void;
  /** The session cannot go on (its conversation was deleted): end it and close, `reason` says why. */
  sessionOver?(reason: string): void;
  /** Another connection resumed the session (here or on another instance): close, the session is no longer this one's. */
  replaced?(): void;
}

export class VoiceSession {
  settings: ResolvedSettings;
  private seq: number;
  /** The highest seq reserved for this instance; more is reserved when half a block is left. */
  private seqCeiling: number;
  private reserving?: Promise<void>;
  private transport?: Transport;
  private readonly replay: { seq: number; json: string }[] = [];
  private readonly pipeline: Pipeline;
  private readonly turnTaking: TurnTaking;
  private readonly output: ReplyOutput;
  private readonly observer: SessionObserver;
  private ended = false;
  /** Taken over by another instance: this copy sends nothing more. */
  private released = false;
  private closing?: Promise<void>;

  constructor(
    readonly snapshot: Omit<SessionSnapshot, "settings" | "lastSeq">,
    settings: ResolvedSettings,
    private readonly deps: SessionDeps,
    /** The numbers this instance reserved (SessionStatePort.reserveSeq): it sends from `after` + 1. */
    seqs: { after: number; ceiling: number } = { after: 0, ceiling: SEQ_BLOCK },
  ) {
    this.settings = settings;
    this.seq = seqs.after;
    this.seqCeiling = seqs.ceiling;
    const current = () => this.settings;
    const { models } = deps;
    const writes = new WriteBacklog(deps.store, deps.maxPendingWrites);
    const store = writes.store;
    this.turnTaking = new TurnTaking({ vad: models.vad, stt: models.stt, turn: models.turn, settings: current });
    this.output = new ReplyOutput({
      send: (message) => this.send(message),
      sessionOver: (reason) => this.transport?.sessionOver?.(reason),
      store,
      reporter: this.turnTaking,
      settings: current,
      conversationId: () => snapshot.conversationId,
      chunkBytes: deps.chunkBytes,
      audioLeadMs: deps.audioLeadMs,
      log: deps.log,
      journal: {
        record: (progress) => deps.state.replyProgress(snapshot.sessionId, progress),
        claim: (turnId) => deps.state.claimReply(snapshot.sessionId, turnId),
      },
    });
    this.observer = new SessionObserver(deps.observers, { sessionId: snapshot.sessionId, conversationId: snapshot.conversationId });
    this.pipeline = new Pipeline(
      [
        this.turnTaking,
        new ConversationStage({ store, writes, settings: current, conversationId: () => snapshot.conversationId, sessionRowId: () => snapshot.sessionRowId }),
        new LlmStage(models.llm, current, deps.chatTemplate),
        new SentenceStage(),
        new TtsStage(models.tts, store, current),
      ],
      this.output.handle,
      deps.log,
      this.observer.hop,
    );
  }

  get id(): string {
    return this.snapshot.sessionId;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** A reply is being produced, delivered or stored: a draining instance waits for it. */
  get replying(): boolean {
    return this.turnTaking.replying || this.output.busy;
  }

  get attached(): boolean {
    return this.transport !== undefined;
  }

  /** Binds a connection; one that was bound before is told it has been replaced (it closes with 4003). */
  attach(transport: Transport): void {
    const previous = this.transport;
    this.transport = transport;
    if (previous && previous !== transport) previous.replaced?.();
  }

  /**
   * Another instance took the session over: the client here is dropped (4003), nothing more is sent
   * or numbered, and the pipeline stops; a reply in progress is stored as heard.
   */
  async release(): Promise<void> {
    this.released = true;
    const transport = this.transport;
    this.transport = undefined;
    transport?.replaced?.();
    await this.end();
  }

  detach(transport: Transport): void {
    if (this.transport === transport) this.transport = undefined;
  }

  /** Stamps the next sequence number, keeps the message for resume, and sends it if connected. */
  send(message: OutgoingMessage): void {
    if (this.released) return;
    const json = JSON.stringify({ type: message.type, seq: ++this.seq, data: message.data });
    if (this.seqCeiling - this.seq <= SEQ_BLOCK / 2) this.reserveSeqs();
    this.replay.push({ seq: this.seq, json });
    if (this.replay.length > this.deps.replayLimit) this.replay.shift();
    this.deps.state.appendReplay(this.id, this.seq, json);
    this.observer.sent(message);
    this.transport?.send(json);
  }

  /**
   * Reserves the next block ahead of need. Should a burst outrun it, the numbers simply continue: the
   * reservation that follows covers them, since only this owner advances the counter.
   */
  private reserveSeqs(): void {
    this.reserving ??= this.deps.state
      .reserveSeq(this.id, this.seqCeiling, SEQ_BLOCK)
      .then((ceiling) => {
        this.seqCeiling = Math.max(this.seqCeiling, ceiling);
      })
      .catch((error) => this.deps.log.warn({ err: error }, "reserving sequence numbers failed"))
      .finally(() => {
        this.reserving = undefined;
      });
  }

  /** Messages after `lastSeq` from this instance's memory, or undefined if some are gone. */
  replaySince(lastSeq: number): string[] | undefined {
    const first = this.replay[0];
    if (lastSeq >= this.seq) return [];
    if (!first || first.seq > lastSeq + 1) return undefined;
    return this.replay.filter((m) => m.seq > lastSeq).map((m) => m.json);
  }

  /** 16-bit PCM at the session's input rate. Throws a RangeError naming the problem. */
  pushAudio(pcm: Uint8Array): void {
    if (pcm.byteLength === 0) throw new RangeError("audio chunk is empty");
    if (pcm.byteLength > LIMITS.maxAudioChunkBytes) {
      throw new RangeError(`audio chunk of ${pcm.byteLength} bytes is over the ${LIMITS.maxAudioChunkBytes}-byte limit`);
    }
    const samples = resample(pcm16ToFloat32(pcm), this.settings.inputSampleRate, MODEL_SAMPLE_RATE);
    this.deps.state.appendAudio(this.id, pcm);
    this.pipeline.push({ kind: "audio", samples, receivedAt: performance.now() });
  }

  /** Handles a validated in-session message (start, stop and resume belong to the connection). */
  handle(message: ClientMessage): void {
    const at = performance.now();
    switch (message.type) {
      case "audio":
        return this.pushAudio(Buffer.from(message.data.audio_data, "base64"));
      case "text":
        return this.pipeline.push({ kind: "user_text", text: message.data.text, at });
      case "utterance_end":
        this.deps.state.clearAudio(this.id);
        return this.pipeline.push({ kind: "utterance_end", at, transcription: message.data?.transcription });
      case "interrupt":
        return this.pipeline.push({ kind: "interrupt_request", reason: "client" });
      case "playback":
        return this.turnTaking.played(message.data.played_ms);
      case "config":
        this.settings = applySettings(this.settings, message.data);
        void this.saveState();
        return;
      case "ping":
        return this.send({ type: "pong", data: { timestamp: message.data?.timestamp ?? Date.now() } });
      default:
        throw new Error(`${message.type} is handled by the connection, not the session`);
    }
  }

  saveState(): Promise<void> {
    return this.deps.state.save({ ...this.snapshot, settings: this.settings, lastSeq: this.seq }).catch((error) => {
      this.deps.log.warn({ err: error }, "saving session state failed");
    });
  }

  /**
   * Ends the session: a reply in progress is interrupted and stored as heard, Triton sequences
   * are released. Resolves with the session's duration in seconds.
   */
  async end(waitMs = Number.POSITIVE_INFINITY): Promise<number> {
    if (!this.ended) {
      this.ended = true;
      // Work still queued (audio, a text) is dropped, not waited for: `stop` answers at once.
      this.pipeline.discardQueued();
      this.turnTaking.stopListening();
      this.pipeline.push({ kind: "interrupt_request", reason: "client" });
      this.closing = (async () => {
        await this.pipeline.drained();
        await this.output.settled();
        await this.pipeline.close();
      })();
    }
    // A model request that does not answer (a hung Triton) must not hold the client: past waitMs the
    // rest (storing the interrupted reply, releasing Triton sequences) finishes in the background.
    await withinMs(this.closing!, waitMs);
    return (Date.now() - this.snapshot.startedAt) / 1000;
  }
}

/** Resolves when `work` does or after `ms`, whichever is first. */
async function withinMs(work: Promise<void>, ms: number): Promise<void> {
  if (!Number.isFinite(ms)) return work;
  let timer: Timer | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
