/**
 * Reports one voice session to the observer seam (src/telemetry/events.ts) from two vantage points
 * that need no change to any stage: every hop between stages (the Pipeline's HopObserver) and every
 * message the session sends. From them it derives turns (start; end with outcome and latency
 * report), interruptions, false interruptions and the errors the client is told about.
 */
import type { OutgoingMessage } from "../protocol/messages";
import type { Observers } from "../telemetry/events";
import type { PipelineEvent } from "./events";
import type { HopObserver } from "./stage";
import type { TurnView } from "./turn-taking/turn";

export interface SessionIds {
  sessionId: string;
  conversationId: string;
}

/** The messages that tell the client a turn is over. */
const TURN_ENDING = new Set<OutgoingMessage["type"]>(["response_complete", "interrupted", "error"]);

export class SessionObserver {
  /** Turns reported as started and not yet as ended. */
  private readonly open = new Set<TurnView>();
  /** Events travel the whole chain; turns and speech are reported at their first hop. */
  private readonly seen = new WeakSet<object>();
  /** Events that made a hop already: the next hops pass them on. */
  private readonly hopped = new WeakSet<PipelineEvent>();
  /** Counts the user's utterances (speech or typed text); events before a turn exists belong to one. */
  private utterance = 0;

  constructor(
    private readonly observers: Observers,
    private readonly ids: SessionIds,
  ) {}

  readonly hop: HopObserver = (from, to, position, event) => {
    const at = performance.now();
    this.track(event, from, position, at);
    if (event.kind === "audio" ? !this.observers.wantsAudio() : !this.observers.wants("stage_event")) return;
    const produced = !this.hopped.has(event);
    if (produced) this.hopped.add(event);
    const turnId = "turn" in event ? event.turn?.id : undefined;
    const utterance = turnId === undefined ? this.utterance : undefined;
    this.observers.observe({ type: "stage_event", sessionId: this.ids.sessionId, from, to, position, kind: event.kind, produced, turnId, utterance, at });
  };

  /** A message the session stamped for its client (sent now, or kept for replay). */
  sent(message: OutgoingMessage): void {
    if (message.type === "error") this.observers.observe({ type: "error", code: message.data.code, sessionId: this.ids.sessionId });
    // A paused reply that resumes: the speech over it turned out not to be an interruption.
    if (message.type === "response_resumed") this.observers.observe({ type: "false_interruption", sessionId: this.ids.sessionId, at: performance.now() });
    if (!TURN_ENDING.has(message.type)) return;
    // Turn-taking and the output set a turn's final state just before they tell the client.
    for (const turn of this.open) {
      if (turn.state === "complete" || turn.state === "interrupted" || turn.state === "failed") this.ended(turn, turn.state);
    }
  }

  private track(event: PipelineEvent, from: string, position: number, at: number): void {
    if (event.kind === "speech_started" && this.firstSight(event)) this.utterance += 1;
    else if (event.kind === "user_text" && from === "input") this.utterance += 1;
    else if (event.kind === "interrupt" && this.firstSight(event)) {
      this.observers.observe({ type: "interruption", sessionId: this.ids.sessionId, turnId: event.turn.id, reason: event.reason, at });
    }
    if (!("turn" in event) || !event.turn || !this.firstSight(event.turn)) return;
    // The first event of a turn leaves the stage that decided it (turn-taking's user_turn).
    this.open.add(event.turn);
    const { id: turnId, source } = event.turn;
    this.observers.observe({ type: "turn_started", ...this.ids, turnId, source, utterance: this.utterance, stagePosition: position - 1, at });
  }

  private ended(turn: TurnView, outcome: "complete" | "interrupted" | "failed"): void {
    this.open.delete(turn);
    this.observers.observe({ type: "turn_ended", ...this.ids, turnId: turn.id, source: turn.source, outcome, latency: turn.latency(), at: performance.now() });
  }

  private firstSight(thing: object): boolean {
    if (this.seen.has(thing)) return false;
    this.seen.add(thing);
    return true;
  }
}
