/**
 * A pipeline stage and the chain that links them. Each stage handles its events one at a time, in
 * order, on its own queue, so a slow stage delays only itself; long work (an LLM stream, a
 * synthesis) runs as a task that forwards events when they are ready.
 */
import type { Logger } from "pino";
import { publicReason } from "../inference/public-reason";
import { type PipelineEvent, isStale, isSystemEvent } from "./events";

export type EventSink = (event: PipelineEvent) => void;

/**
 * Sees every event passing from one stage to the next, before it is delivered (Pipecat's observer
 * pattern: telemetry watches the links, so no stage changes for it). `from` is "input" for events
 * pushed into the chain, `to` is "output" for those reaching the sink; `position` is `to`'s index.
 */
export type HopObserver = (from: string, to: string, position: number, event: PipelineEvent) => void;

export abstract class Stage {
  abstract readonly name: string;
  private next: EventSink = () => {};
  private queue: Promise<void> = Promise.resolve();
  private generation = 0;
  protected log!: Logger;

  attach(next: EventSink, log: Logger): void {
    this.next = next;
    this.log = log.child({ stage: this.name });
  }

  /** Accepts an event: system events run at once, others wait their turn. */
  receive(event: PipelineEvent): void {
    if (isSystemEvent(event)) {
      this.run(event);
      return;
    }
    const generation = this.generation;
    this.queue = this.queue.then(() => (generation === this.generation ? this.run(event) : undefined));
  }

  /** Drops every event still waiting (the session is ending): only the one being handled finishes. */
  discardQueued(): void {
    this.generation += 1;
  }

  /** Resolves once everything queued so far has been handled. */
  drained(): Promise<void> {
    return this.queue;
  }

  /** Handles one event. The default passes it on unchanged. */
  protected process(event: PipelineEvent): void | Promise<void> {
    this.forward(event);
  }

  /** Passes an event to the next stage, dropping those of a cancelled turn. */
  protected forward(event: PipelineEvent): void {
    if (!isStale(event)) this.next(event);
  }

  /** Reports a failure downstream as an error event the client will see. */
  protected fail(error: unknown, event?: PipelineEvent): void {
    const turn = event && "turn" in event ? event.turn : undefined;
    this.log.error({ err: error, event: event?.kind }, "stage failed");
    // The client learns what kind of failure it was; addresses and driver text stay in the server log.
    this.forward({ kind: "error", code: "inference_failed", message: `${this.name}: ${publicReason(error)}`, turn });
  }

  /** Frees per-session resources (Triton sequences). */
  async close(): Promise<void> {}

  private async run(event: PipelineEvent): Promise<void> {
    try {
      await this.process(event);
    } catch (error) {
      this.fail(error, event);
    }
  }
}

/** Stages linked in order; the last one delivers to `sink`. */
export class Pipeline {
  constructor(
    private readonly stages: readonly Stage[],
    sink: EventSink,
    log: Logger,
    private readonly onHop?: HopObserver,
  ) {
    stages.forEach((stage, i) => {
      const next = stages[i + 1];
      const deliver: EventSink = next ? (event) => next.receive(event) : sink;
      const to = next?.name ?? "output";
      const observed: EventSink = (event) => {
        onHop?.(stage.name, to, i + 1, event);
        deliver(event);
      };
      stage.attach(onHop ? observed : deliver, log);
    });
  }

  push(event: PipelineEvent): void {
    const first = this.stages[0];
    if (!first) return;
    this.onHop?.("input", first.name, 0, event);
    first.receive(event);
  }

  /** Drops the events waiting in every stage (see Stage.discardQueued). */
  discardQueued(): void {
    for (const stage of this.stages) stage.discardQueued();
  }

  /** Waits until every stage has handled what it had queued (used at shutdown and in tests). */
  async drained(): Promise<void> {
    for (const stage of this.stages) await stage.drained();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.stages.map((stage) => stage.close()));
  }
}
