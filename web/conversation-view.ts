/** Renders the live conversation: the user's partial and final transcripts, the streaming reply, barge-in and the latency bar. */
import { type LatencyReport, latencySegments } from "../packages/morgan-client/src/index";

export class ConversationView {
  readonly #replies = new Map<string, HTMLLIElement>();

  constructor(
    private readonly log: HTMLOListElement,
    private readonly partial: HTMLElement,
  ) {}

  /** A partial transcript while the user speaks; a final one becomes the user's line. */
  transcript(text: string, isFinal: boolean): void {
    if (!isFinal) {
      this.partial.textContent = text;
      return;
    }
    this.partial.textContent = "";
    if (text.trim() !== "") this.userLine(text);
  }

  userLine(text: string): void {
    const item = this.#item("user");
    item.textContent = text;
  }

  replyDelta(turnId: string, delta: string): void {
    const text = this.#reply(turnId).querySelector(".text")!;
    text.textContent += delta;
    this.#scroll();
  }

  /** The user started speaking over the reply: it holds (and plays on if no words follow). */
  paused(turnId: string, paused: boolean): void {
    this.#reply(turnId).classList.toggle("paused", paused);
  }

  /** Barge-in: the reply is struck through and what the user heard is shown beneath it. */
  interrupted(turnId: string, heardText: string): void {
    const item = this.#reply(turnId);
    item.classList.remove("paused");
    item.classList.add("interrupted");
    const heard = document.createElement("span");
    heard.className = "heard";
    heard.textContent = heardText ? `interrupted — heard: “${heardText}”` : "interrupted before any of it was heard";
    item.append(heard);
  }

  /** The reply's text is already shown (its deltas); the turn gets its latency bar. */
  complete(turnId: string, latency: LatencyReport): void {
    const item = this.#reply(turnId);
    const segments = latencySegments(latency);
    const total = segments.reduce((sum, s) => sum + s.ms, 0);
    if (total <= 0) return;
    const bar = document.createElement("div");
    bar.className = "latency";
    bar.setAttribute("role", "img");
    const summary = segments.map((s) => `${s.label} ${Math.round(s.ms)} ms`).join(", ");
    bar.setAttribute("aria-label", `latency: ${summary}`);
    for (const segment of segments) {
      const part = document.createElement("span");
      part.className = segment.stage;
      part.style.flexGrow = String(segment.ms);
      part.title = `${segment.label}: ${Math.round(segment.ms)} ms`;
      bar.append(part);
    }
    const legend = document.createElement("p");
    legend.className = "latency-legend";
    legend.textContent = summary;
    item.append(bar, legend);
  }

  #reply(turnId: string): HTMLLIElement {
    let item = this.#replies.get(turnId);
    if (!item) {
      item = this.#item("assistant");
      item.dataset.turnId = turnId;
      const text = document.createElement("span");
      text.className = "text";
      item.append(text);
      this.#replies.set(turnId, item);
    }
    return item;
  }

  #item(role: "user" | "assistant"): HTMLLIElement {
    const item = document.createElement("li");
    item.className = role;
    this.log.append(item);
    this.#scroll();
    return item;
  }

  #scroll(): void {
    this.log.lastElementChild?.scrollIntoView({ block: "nearest" });
  }
}
