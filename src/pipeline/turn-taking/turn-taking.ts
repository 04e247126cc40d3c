/**
 * Turn-taking: the one module that decides when the user has started and finished a turn and what
 * their speech does to Morgan's reply. It owns voice activity (the VAD model), speech recognition of
 * each utterance (STT, with speculative finals), the end-of-turn decision (the turn model) and
 * interruptions (barge-in, false interruptions, echo), and it is the only writer of a Turn: the stages
 * after it report what happened through `ReplyReporter`, and it decides.
 *
 * In the pipeline it is the first stage: client audio, typed text and the client's utterance_end and
 * interrupt come in; speech events, transcripts, `user_turn`, `interrupt`, `reply_paused` and
 * `reply_resumed` go out.
 */
import type { SpeechToText, Transcript, TurnDetector, VadFrame, VadStream, VoiceActivityDetector } from "../../inference/types";
import type { EventOf, PipelineEvent } from "../events";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";
import { type EndpointAction, Endpointer } from "./endpointing";
import { type InterruptionDecision, type ReplyActivity, UtteranceInterruption } from "./interruption";
import { Recognizer } from "./recognizer";
import { Turn, type TurnView } from "./turn";
import { VadFeed } from "./vad-feed";

/** Smart Turn judges at most the last 8 s of the turn. */
const TURN_MODEL_WINDOW_MS = 8000;

export interface TurnTakingDeps {
  vad: VoiceActivityDetector;
  stt: SpeechToText;
  turn: TurnDetector;
  settings: () => ResolvedSettings;
}

/** What the end of the pipeline tells turn-taking about a reply, so that turn-taking alone writes the Turn. */
export interface ReplyReporter {
  replyText(turn: TurnView, delta: string): void;
  sentenceReady(turn: TurnView): void;
  audioSent(turn: TurnView, sentence: { index: number; text: string }, audioMs: number, cached: boolean): void;
  /** All of the reply's audio is out. True when the reply completes (it was not interrupted meanwhile). */
  replyDone(turn: TurnView): boolean;
  replyFailed(turn: TurnView): void;
  /** The client's report of how much of the current reply it has played. */
  played(ms: number): void;
}

export class TurnTaking extends Stage implements ReplyReporter {
  /** A turn model without a text check is reported once per process, not at every pause. */
  private static textCheckMissingLogged = false;
  readonly name = "turn-taking";
  private reply?: Turn;
  private vadStream?: VadStream;
  private releaseTimer?: Timer;
  private readonly vad: VadFeed;
  /** While the VAD model keeps failing, the client hears about it once, not per audio chunk. */
  private vadFailing = false;
  private readonly endpointer: Endpointer;
  private readonly recognizer: Recognizer;
  /** The current (or last) utterance's interruption state. */
  private utterance?: UtteranceInterruption;
  /** The turn model's question about the current pause, aborted when the pause ends. */
  private turnQuery?: AbortController;
  /** Utterances whose final transcript is still awaited, settled in order. */
  private settling: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TurnTakingDeps) {
    super();
    const options = () => deps.settings().turnTaking;
    this.endpointer = new Endpointer(options);
    this.vad = new VadFeed(() => (this.vadStream ??= deps.vad.open()), {
      frames: (audio, frames) => this.onFrames(audio, frames),
      failed: (error) => {
        if (!this.vadFailing) this.fail(error);
        this.vadFailing = true;
      },
    });
    this.recognizer = new Recognizer(deps.stt, () => deps.settings().language, () => options().vad.minSpeechMs, {
      partial: (transcript, audioMs) => this.onPartial(transcript, audioMs),
      speculation: (outcome) => this.forward({ kind: "speculation", outcome }),
    });
  }

  protected override async process(event: PipelineEvent): Promise<void> {
    switch (event.kind) {
      case "audio":
        return this.onAudio(event);
      case "user_text":
        this.interrupt("client");
        return this.startTurn(new Turn("text", event.text, event.at));
      case "utterance_end":
        // The client's end follows the audio it sent: let the VAD hear all of it first.
        await this.vad.idle();
        return this.onUtteranceEnd(event);
      case "interrupt_request":
        return this.interrupt(event.reason);
      default:
        this.forward(event);
    }
  }

  // ---------------------------------------------------------------- what the reply's stages report

  replyText(turn: TurnView, delta: string): void {
    const reply = this.current(turn);
    reply?.mark("llmFirstToken");
    reply?.appendText(delta);
  }

  sentenceReady(turn: TurnView): void {
    this.current(turn)?.mark("firstSentence");
  }

  audioSent(turn: TurnView, sentence: { index: number; text: string }, audioMs: number, cached: boolean): void {
    const reply = this.current(turn);
    if (!reply) return;
    reply.mark("ttsFirstChunk");
    reply.markLast("lastChunk");
    reply.recordAudioSent(sentence.index, sentence.text, audioMs, cached);
  }

  replyDone(turn: TurnView): boolean {
    const reply = this.current(turn);
    if (reply?.state !== "running") return false;
    reply.finish("complete");
    return true;
  }

  replyFailed(turn: TurnView): void {
    const reply = this.current(turn);
    if (!reply || !isActive(reply)) return;
    reply.finish("failed");
    reply.cancel("failed");
  }

  played(ms: number): void {
    this.reply?.reportPlayed(ms);
  }

  /** Whether a reply is under way (running or paused): a draining instance lets it finish. */
  get replying(): boolean {
    return this.reply !== undefined && isActive(this.reply);
  }

  /** Resolves once all audio received so far has been through the VAD and its frames decided on. */
  listened(): Promise<void> {
    return this.vad.idle();
  }

  /** The session is ending: audio the VAD has not answered yet no longer matters, and nothing waits for it. */
  stopListening(): void {
    clearTimeout(this.releaseTimer);
    this.vad.cancel();
    this.turnQuery?.abort();
  }

  override async close(): Promise<void> {
    this.stopListening();
    this.recognizer.abort();
    await this.vadStream?.close();
  }

  // ---------------------------------------------------------------- audio → decisions

  private onAudio(event: EventOf<"audio">): void {
    this.vad.push({ samples: event.samples, receivedAt: event.receivedAt });
    this.releaseWhenQuiet();
  }

  /**
   * The VAD model holds a fixed number of sequences (64 on CPU): a session that stops sending audio
   * gives its sequence back after vad.releaseAfterMs, so idle sessions cannot starve a new speaker,
   * and the next audio takes a fresh one (issue 12, defect 2).
   */
  private releaseWhenQuiet(): void {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      void this.vad.idle().then(() => {
        if (this.vad.busy || !this.vadStream) return;
        const stream = this.vadStream;
        this.vadStream = undefined;
        this.vad.restart();
        void stream.close();
      });
    }, this.deps.settings().turnTaking.vad.releaseAfterMs);
    this.releaseTimer.unref?.();
  }

  /** One VAD answer: the recogniser gets the audio first (so speech starts with its pre-roll), then the frames decide. */
  private onFrames(audio: Float32Array, frames: { frame: VadFrame; receivedAt: number }[]): void {
    this.vadFailing = false;
    this.recognizer.push(audio);
    for (const { frame, receivedAt } of frames) this.apply(this.endpointer.frame(frame.probability, frame.durationMs, receivedAt));
    this.decide(this.utterance?.silence(this.endpointer.silence, this.activity()));
  }

  private apply(actions: EndpointAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case "speech_started":
          this.utterance = new UtteranceInterruption(() => this.deps.settings().turnTaking, this.activity());
          this.recognizer.start();
          this.forward({ kind: "speech_started", at: performance.now() });
          break;
        case "barge_in_speech":
          this.decide(this.utterance?.speechLongEnough(this.activity()));
          break;
        case "pause":
          this.onPause(action.pause);
          break;
        case "resumed":
          this.turnQuery?.abort();
          this.recognizer.resume();
          break;
        case "end_of_turn":
          this.endUtterance(action.speechEndedAt, action.reason);
          break;
      }
    }
  }

  /**
   * At the first frame of a pause: finalise speech recognition early and, in semantic mode, ask the
   * turn model about the audio and, once the speculative final is in, about the words.
   */
  private onPause(pause: number): void {
    this.recognizer.speculate();
    if (this.deps.settings().turnTaking.endpointing.mode !== "semantic") return;
    const query = new AbortController();
    this.turnQuery = query;
    const audio = this.deps.turn.predict(this.recognizer.recent(TURN_MODEL_WINDOW_MS), query.signal);
    const words = this.textVerdict(this.recognizer.speculation, query.signal);
    Promise.all([audio, words]).then(
      ([probability, textProbability]) => {
        if (!query.signal.aborted) this.apply(this.endpointer.modelAnswer(pause, probability, textProbability));
      },
      (error) => {
        // The maximum wait still ends the turn; the user waits longer, nothing is lost.
        if (!query.signal.aborted) this.log.warn({ err: error }, "the turn model failed; waiting for the maximum silence");
      },
    );
  }

  /**
   * The text check's probability that the speculative final ends the utterance; null, so that the
   * audio alone decides, when there are no words, the model has no text check, or the check failed.
   */
  private async textVerdict(final: Promise<Transcript> | undefined, signal: AbortSignal): Promise<number | null> {
    if (!final) return null;
    try {
      const { text } = await final;
      signal.throwIfAborted();
      if (text.trim() === "") return null;
      const probability = await this.deps.turn.predictText(text, signal);
      if (probability === null && !TurnTaking.textCheckMissingLogged) {
        TurnTaking.textCheckMissingLogged = true;
        this.log.warn("the turn model has no text check (llama_cpp or its GGUF missing): the audio alone decides the end of turn");
      }
      return probability;
    } catch (error) {
      if (signal.aborted) throw error;
      this.log.warn({ err: error }, "the text check failed; the audio alone decides this pause");
      return null;
    }
  }

  private onPartial(transcript: Transcript, audioMs: number): void {
    this.forward({ kind: "transcript", transcript, audioMs });
    this.decide(this.utterance?.heardWords(countWords(transcript.text), this.activity()));
  }

  private onUtteranceEnd(event: EventOf<"utterance_end">): void {
    const given = event.transcription?.trim();
    if (given) {
      // The client transcribed the speech itself: drop ours and take its text as final.
      this.recognizer.abort();
      if (this.endpointer.inUtterance) this.endpointer.forceEnd();
      this.settle(Promise.resolve({ text: given, isFinal: true, confidence: 1 }), event.at, event.at, 0);
      return;
    }
    if (this.endpointer.inUtterance) return this.apply(this.endpointer.forceEnd());
    // The VAD has not heard speech (a short or quiet utterance): transcribe what the pre-roll holds.
    this.utterance = new UtteranceInterruption(() => this.deps.settings().turnTaking, this.activity());
    this.recognizer.start();
    this.endUtterance(event.at, "client", false);
  }

  /** The turn is over: say so at once, then start the reply when the final transcript is in. */
  private endUtterance(speechEndedAt: number, reason: EventOf<"speech_stopped">["reason"], announce = true): void {
    const decidedAt = performance.now();
    this.turnQuery?.abort();
    const audioMs = this.recognizer.utteranceMs;
    if (announce) this.forward({ kind: "speech_stopped", at: decidedAt, speechEndedAt, reason });
    this.settle(this.recognizer.finish(), speechEndedAt, decidedAt, audioMs);
  }

  private settle(final: Promise<Transcript>, speechEndedAt: number, decidedAt: number, audioMs: number): void {
    const utterance = this.utterance;
    this.settling = this.settling
      .then(async () => {
        const transcript = await final;
        this.forward({ kind: "transcript", transcript, audioMs });
        this.decide(utterance?.utteranceEnded(countWords(transcript.text), this.activity()));
        const text = transcript.text.trim();
        if (utterance?.ignoresTranscript(this.activity())) {
          this.log.info({ words: countWords(text) }, "speech during the reply did not interrupt it; ignored");
          return;
        }
        if (text === "") return;
        this.interrupt("barge_in");
        const turn = new Turn("voice", text, speechEndedAt, decidedAt - speechEndedAt, audioMs, transcript.confidence);
        turn.mark("sttFinal");
        this.startTurn(turn);
      })
      .catch((error) => this.fail(error));
  }

  // ---------------------------------------------------------------- the reply

  private startTurn(turn: Turn): void {
    this.reply = turn;
    this.forward({ kind: "user_turn", turn });
  }

  private decide(decision: InterruptionDecision | undefined): void {
    const reply = this.reply;
    if (!reply || !decision || decision === "none") return;
    if (decision === "interrupt") return this.interrupt("barge_in");
    if (decision === "pause" && reply.state === "running") {
      reply.pause();
      this.forward({ kind: "reply_paused", turn: reply });
    }
    if (decision === "resume" && reply.state === "paused") {
      reply.resume();
      this.forward({ kind: "reply_resumed", turn: reply });
    }
  }

  private interrupt(reason: "barge_in" | "client"): void {
    const reply = this.reply;
    if (!reply || !isActive(reply)) return;
    reply.finish("interrupted");
    reply.cancel(`interrupted: ${reason}`);
    this.forward({ kind: "interrupt", turn: reply, reason });
  }

  private activity(): ReplyActivity {
    const state = this.reply?.state;
    return state === "running" ? "playing" : state === "paused" ? "paused" : "none";
  }

  /** The turn behind a view, if it is the current reply (reports about older turns are late and ignored). */
  private current(turn: TurnView): Turn | undefined {
    return turn === this.reply ? this.reply : undefined;
  }
}

function isActive(turn: Turn): boolean {
  return turn.state === "running" || turn.state === "paused";
}

function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}
