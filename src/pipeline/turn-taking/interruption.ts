/**
 * Interruption: what one utterance of the user does to a reply that is playing. Pure decisions (an
 * object per utterance, created when it starts); the turn-taking module applies them.
 *
 * - Speech over the reply counts once it lasts `bargeInSpeechMs` (longer without echo cancellation,
 *   since Morgan's own voice may come back through the microphone) and, with `minWords`, once the live
 *   transcript holds that many words.
 * - With `resumeFalseInterruption` the reply pauses as soon as the speech is long enough, and resumes
 *   where it stopped if no words follow (a cough, a "mm") within `falseInterruptionTimeoutMs` of the
 *   user falling silent; words stop it for good. Without it the reply plays on until it is interrupted.
 * - Speech that began over the reply and did not interrupt it is not a turn of its own (a backchannel,
 *   or echo); without echo cancellation that holds even when its transcript arrives after the reply.
 */
import type { TurnTakingOptions } from "./options";

export type ReplyActivity = "none" | "playing" | "paused";
export type InterruptionDecision = "none" | "pause" | "interrupt" | "resume";

export class UtteranceInterruption {
  private readonly beganDuringReply: boolean;
  private longEnough = false;
  private words = 0;
  private pausedByUser = false;
  private interrupted = false;

  /** `reply` is what the reply was doing when the utterance started. */
  constructor(
    private readonly options: () => TurnTakingOptions,
    reply: ReplyActivity,
  ) {
    this.beganDuringReply = reply !== "none";
  }

  /** The utterance's speech reached the barge-in length. */
  speechLongEnough(reply: ReplyActivity): InterruptionDecision {
    this.longEnough = true;
    if (reply !== "playing") return "none";
    const { interruption } = this.options();
    if (interruption.resumeFalseInterruption) {
      this.pausedByUser = true;
      return "pause";
    }
    return this.wordsSuffice() ? this.interrupt() : "none";
  }

  /** The live transcript of the utterance now holds `count` words. */
  heardWords(count: number, reply: ReplyActivity): InterruptionDecision {
    this.words = Math.max(this.words, count);
    if (reply === "none" || !this.longEnough || this.interrupted) return "none";
    return this.wordsSuffice() ? this.interrupt() : "none";
  }

  /** The utterance is over and its final transcript holds `count` words. */
  utteranceEnded(count: number, reply: ReplyActivity): InterruptionDecision {
    const decision = this.heardWords(count, reply);
    if (decision !== "none") return decision;
    return this.resumeIfPaused(reply);
  }

  /** The user has been silent for `silenceMs` since speaking. */
  silence(silenceMs: number, reply: ReplyActivity): InterruptionDecision {
    if (silenceMs < this.options().interruption.falseInterruptionTimeoutMs) return "none";
    return this.resumeIfPaused(reply);
  }

  /** Whether the utterance's transcript should be dropped instead of starting a turn. */
  ignoresTranscript(reply: ReplyActivity): boolean {
    if (!this.beganDuringReply || this.interrupted) return false;
    return reply !== "none" || !this.options().interruption.echoCancellation;
  }

  private wordsSuffice(): boolean {
    const needed = Math.max(this.options().interruption.minWords, this.pausedByUser ? 1 : 0);
    return this.words >= needed;
  }

  private interrupt(): InterruptionDecision {
    this.interrupted = true;
    this.pausedByUser = false;
    return "interrupt";
  }

  private resumeIfPaused(reply: ReplyActivity): InterruptionDecision {
    if (!this.pausedByUser || this.interrupted) return "none";
    this.pausedByUser = false;
    return reply === "paused" ? "resume" : "none";
  }
}
