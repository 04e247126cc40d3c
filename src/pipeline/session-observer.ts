/**
 * Reports one voice session to the observer seam (src/telemetry/events.ts) from two vantage points
 * that need no change to any stage: every hop between stages (the Pipeline's HopObserver) and every
 * message the session sends. From them it derives turns (start; end with outcome and latency
 * report), interruptions, false interruptions and the errors the client is told about.
 */
import type { OutgoingMessage } from "../protocol/messages";
import type { Observers, TurnOutcome } from "../telemetry/events";
import type { PipelineEvent } from "./events";
import type { HopObserver } from "./stage";
import type { Turn } from "./turn";

export interface SessionIds {
  sessionId: string;
  conversationId: string;
}

export class SessionObserver {
  /** Turns reported as started and not yet as ended. */
  private readonly open = new Set<Turn>();
  /** Turns already reported (events are seen once per hop, reported once per turn). */
  private readonly started = new WeakSet<Turn>();
  private readonly interrupted = new WeakSet<Turn>();
  private readonly seenSpeech = new WeakSet<PipelineEvent>();
  /** Speech began over a reply and has not become a barge-in yet. */
  private speechOverReply = false;
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
    const turnId = "turn" in event ? event.turn?.id : undefined;
    const utterance = turnId === undefined ? this.utterance : undefined;
    this.observers.observe({ type: "stage_event", sessionId: this.ids.sessionId, from, to, position, kind: event.kind, turnId, utterance, at });
  };

  /** A message the session stamped for its client (sent now, or kept for replay). */
  sent(message: OutgoingMessage): void {
    if (message.type === "error") this.observers.observe({ type: "error", code: message.data.code, sessionId: this.ids.sessionId });
    else if (message.type !== "response_complete" && message.type !== "interrupted") return;
    // The output sets a turn's final state just before it tells the client.
    for (const turn of this.open) {
      if (turn.state !== "running") this.ended(turn, turn.state);
    }
  }

  private track(event: PipelineEvent, from: string, position: number, at: number): void {
    switch (event.kind) {
      case "turn_started":
        return this.turnStarted(event.turn, position - 1, at);
      case "user_text":
        if (from === "input") this.utterance += 1;
        return;
      case "interrupt":
        if (this.interrupted.has(event.turn)) return;
        this.interrupted.add(event.turn);
        return this.observers.observe({ type: "interruption", sessionId: this.ids.sessionId, turnId: event.turn.id, reason: event.reason, at });
      case "speech_started":
        if (!this.firstSight(event)) return;
        this.utterance += 1;
        this.speechOverReply = this.replying();
        return;
      case "barge_in":
        this.speechOverReply = false;
        return;
      case "speech_stopped":
        if (!this.firstSight(event) || !this.speechOverReply) return;
        this.speechOverReply = false;
        return this.observers.observe({ type: "false_interruption", sessionId: this.ids.sessionId, at });
    }
  }

  private turnStarted(turn: Turn, stagePosition: number, at: number): void {
    if (this.started.has(turn)) return;
    this.started.add(turn);
    this.open.add(turn);
    const { utterance } = this;
    this.observers.observe({ type: "turn_started", ...this.ids, turnId: turn.id, source: turn.source, utterance, stagePosition, at });
  }

  private ended(turn: Turn, outcome: TurnOutcome): void {
    this.open.delete(turn);
    this.observers.observe({
      type: "turn_ended",
      ...this.ids,
      turnId: turn.id,
      source: turn.source,
      outcome,
      latency: turn.latency(),
      at: performance.now(),
    });
  }

  private replying(): boolean {
    for (const turn of this.open) if (turn.state === "running") return true;
    return false;
  }

  /** Speech events travel the whole chain; each is counted at its first hop. */
  private firstSight(event: PipelineEvent): boolean {
    if (this.seenSpeech.has(event)) return false;
    this.seenSpeech.add(event);
    return true;
  }
}
