/**
 * Every endpointing and interruption option of turn-taking, in one typed object (resolved per
 * session from the server's defaults and the client's `start`/`config`).
 */
import type { EAGERNESS_LEVELS, TURN_DETECTION_MODES } from "../../protocol/messages";

export type TurnDetectionMode = (typeof TURN_DETECTION_MODES)[number];
export type Eagerness = (typeof EAGERNESS_LEVELS)[number];

export interface TurnTakingOptions {
  vad: {
    /** Speech probability at or above which a frame is speech (frames below it by 0.15 are silence). */
    threshold: number;
    /** Continuous speech needed before an utterance starts (clicks and breaths start nothing). */
    minSpeechMs: number;
    /**
     * After this long without audio the session gives its VAD sequence back (the model holds a
     * fixed number of them) and takes a fresh one when audio comes again.
     */
    releaseAfterMs: number;
  };
  endpointing: {
    mode: TurnDetectionMode;
    eagerness: Eagerness;
    /** `silence` mode: the silence that ends the turn. */
    silenceMs: number;
    /** The pause at which speech recognition is finalised early and, in `semantic` mode, the turn model asked. */
    minPauseMs: number;
    /** `semantic` mode: the longest silence before the turn ends although the model thinks it unfinished. */
    maxWaitMs: number;
  };
  interruption: {
    /** Speech over the reply needed before it counts as barge-in. */
    minSpeechMs: number;
    /** Words (from the live transcript) needed as well; 0 = speech alone interrupts. */
    minWords: number;
    /** Whether the client cancels Morgan's voice from its microphone. */
    echoCancellation: boolean;
    /** Without echo cancellation barge-in needs at least this much speech (Morgan's own voice may be heard). */
    minSpeechMsWithoutEchoCancellation: number;
    /** Pause the reply on barge-in and resume it if no words follow. */
    resumeFalseInterruption: boolean;
    /** How long after the user falls silent a paused reply waits for words. */
    falseInterruptionTimeoutMs: number;
  };
}

/** Probability of "the user is done" at which the turn ends, by eagerness. */
const COMPLETION_THRESHOLD: Record<Eagerness, number> = { high: 0.3, medium: 0.5, auto: 0.5, low: 0.7 };

export function completionThreshold(options: TurnTakingOptions): number {
  return COMPLETION_THRESHOLD[options.endpointing.eagerness];
}

/**
 * The text check's probability that the words end an utterance, at or above which they may end the
 * turn, by eagerness. Measured with SmolLM2-135M (docs/turn-taking.md): sentences cut at a pause
 * mostly score under 0.03, whole ones 0.09-0.64; 0.05 holds 8 of 12 cut sentences and passes all 12
 * whole ones. `high` lets more halves through, `low` holds more (and may wait on a short whole one).
 */
const TEXT_COMPLETION_THRESHOLD: Record<Eagerness, number> = { high: 0.02, medium: 0.05, auto: 0.05, low: 0.08 };

export function textCompletionThreshold(options: TurnTakingOptions): number {
  return TEXT_COMPLETION_THRESHOLD[options.endpointing.eagerness];
}

/** The speech over a reply that counts as barge-in, given the client's echo cancellation. */
export function bargeInSpeechMs(options: TurnTakingOptions): number {
  const { interruption } = options;
  const floor = interruption.echoCancellation ? 0 : interruption.minSpeechMsWithoutEchoCancellation;
  return Math.max(interruption.minSpeechMs, floor);
}

/** The pause at which the turn is first judged: never later than silence mode's whole wait. */
export function firstPauseMs(options: TurnTakingOptions): number {
  const { endpointing } = options;
  return endpointing.mode === "silence" ? Math.min(endpointing.minPauseMs, endpointing.silenceMs) : endpointing.minPauseMs;
}

/** `semantic` mode's longest wait, never shorter than its first pause. */
export function maxWaitMs(options: TurnTakingOptions): number {
  return Math.max(options.endpointing.maxWaitMs, options.endpointing.minPauseMs);
}
