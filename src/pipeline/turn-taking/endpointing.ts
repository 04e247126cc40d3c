/**
 * Endpointing: from per-frame speech probabilities to "the user started speaking", "the user paused",
 * "the user went on" and "the user is done". Decisions are driven by the audio itself (frame
 * durations), not by timers, so they are exact and testable without a clock; only the turn model's
 * answer arrives on its own.
 *
 * `silence` mode ends the turn after `silenceMs` of silence. `semantic` mode asks the turn model at the
 * first pause of `minPauseMs`, about the audio (Smart Turn) and about the words (the text check): the
 * turn ends at once only when both say complete (each at or above its eagerness threshold). Smart Turn
 * alone cuts many sentences at a mid-sentence pause; the words catch most of those. Without a text
 * verdict (no text check in the model, or it failed) the audio alone decides. Otherwise Morgan listens
 * on, asks again at the next pause, and ends the turn after `maxWaitMs` of silence whatever the model
 * says (it cannot judge every voice: flat synthetic prosody defeats it).
 */
import {
  type TurnTakingOptions,
  bargeInSpeechMs,
  completionThreshold,
  firstPauseMs,
  maxWaitMs,
  textCompletionThreshold,
} from "./options";

/** Below the threshold minus this, a frame counts as silence; between the two it changes nothing. */
const HYSTERESIS = 0.15;

export type EndReason = "silence" | "model" | "max_wait" | "client";

export type EndpointAction =
  /** An utterance began (after minSpeechMs of continuous speech). */
  | { kind: "speech_started" }
  /** The utterance's speech reached the barge-in length (once per utterance). */
  | { kind: "barge_in_speech" }
  /** The first frame of a pause long enough to judge the turn; `pause` numbers the pauses. */
  | { kind: "pause"; pause: number }
  /** Speech came back after a pause: anything speculated at that pause is void. */
  | { kind: "resumed" }
  | { kind: "end_of_turn"; reason: EndReason; speechEndedAt: number };

export class Endpointer {
  private speaking = false;
  private speechMs = 0;
  private silenceMs = 0;
  private pause = 0;
  private pauseAnnounced = false;
  private bargeInAnnounced = false;
  /** performance.now() when the audio holding the latest speech frame arrived. */
  private lastVoicedAt = 0;

  constructor(private readonly options: () => TurnTakingOptions) {}

  /** Whether an utterance is in progress. */
  get inUtterance(): boolean {
    return this.speaking;
  }

  /** Silence since the last speech frame, in ms of audio. */
  get silence(): number {
    return this.silenceMs;
  }

  get speechEndedAt(): number {
    return this.lastVoicedAt;
  }

  /** One VAD frame: its speech probability, the audio it covers and when that audio arrived. */
  frame(probability: number, durationMs: number, receivedAt: number): EndpointAction[] {
    const { threshold } = this.options().vad;
    if (probability >= threshold) return this.speechFrame(durationMs, receivedAt);
    if (probability < threshold - HYSTERESIS) return this.silenceFrame(durationMs);
    return [];
  }

  /**
   * The turn model's answers for pause `pause`: from the audio, and from the words (null: no text
   * verdict, the audio alone decides). Ends the turn if the user is still silent in that pause and
   * both think the turn complete enough for the session's eagerness.
   */
  modelAnswer(pause: number, probability: number, textProbability: number | null): EndpointAction[] {
    if (!this.speaking || pause !== this.pause || !this.pauseAnnounced) return [];
    const options = this.options();
    if (probability < completionThreshold(options)) return [];
    if (textProbability !== null && textProbability < textCompletionThreshold(options)) return [];
    return this.end("model");
  }

  /** The client says the utterance is over (utterance_end), speech heard or not. */
  forceEnd(): EndpointAction[] {
    return this.end("client");
  }

  private speechFrame(durationMs: number, receivedAt: number): EndpointAction[] {
    const options = this.options();
    const actions: EndpointAction[] = [];
    this.lastVoicedAt = receivedAt;
    this.speechMs += durationMs;
    if (this.pauseAnnounced) actions.push({ kind: "resumed" });
    this.pauseAnnounced = false;
    this.silenceMs = 0;
    if (!this.speaking && this.speechMs >= options.vad.minSpeechMs) {
      this.speaking = true;
      actions.push({ kind: "speech_started" });
    }
    if (this.speaking && !this.bargeInAnnounced && this.speechMs >= bargeInSpeechMs(options)) {
      this.bargeInAnnounced = true;
      actions.push({ kind: "barge_in_speech" });
    }
    return actions;
  }

  private silenceFrame(durationMs: number): EndpointAction[] {
    this.silenceMs += durationMs;
    // Speech must be continuous to start an utterance: a click followed by silence starts nothing.
    if (!this.speaking) {
      this.speechMs = 0;
      return [];
    }
    const options = this.options();
    const actions: EndpointAction[] = [];
    if (!this.pauseAnnounced && this.silenceMs >= firstPauseMs(options)) {
      this.pauseAnnounced = true;
      this.pause += 1;
      actions.push({ kind: "pause", pause: this.pause });
    }
    const { mode, silenceMs } = options.endpointing;
    if (mode === "silence" && this.silenceMs >= silenceMs) return [...actions, ...this.end("silence")];
    if (mode === "semantic" && this.silenceMs >= maxWaitMs(options)) return [...actions, ...this.end("max_wait")];
    return actions;
  }

  private end(reason: EndReason): EndpointAction[] {
    const action: EndpointAction = { kind: "end_of_turn", reason, speechEndedAt: this.lastVoicedAt };
    this.speaking = false;
    this.speechMs = 0;
    this.pauseAnnounced = false;
    this.bargeInAnnounced = false;
    return [action];
  }
}
