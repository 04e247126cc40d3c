/**
 * Transcripts and typed text → turns. Owns the current turn: starts a reply for each final user
 * utterance, stores the user's message, and decides barge-in — speech while Morgan answers interrupts
 * it only once it lasts long enough, and shorter speech during a reply (echo, "mm-hm") is ignored.
 */
import type { Logger } from "pino";
import type { EventOf, PipelineEvent } from "../events";
import type { PipelineStore } from "../ports";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";
import { Turn } from "../turn";

export interface TurnStageDeps {
  store: PipelineStore;
  conversationId: () => string;
  /** The streaming_sessions row the transcriptions belong to. */
  sessionRowId: () => string;
  settings: () => ResolvedSettings;
}

export class TurnStage extends Stage {
  readonly name = "turns";
  current?: Turn;
  private speechBeganDuringReply = false;

  constructor(private readonly deps: TurnStageDeps) {
    super();
  }

  get replying(): boolean {
    return this.current?.state === "running";
  }

  protected override async process(event: PipelineEvent): Promise<void> {
    switch (event.kind) {
      case "speech_started":
        this.speechBeganDuringReply = this.replying;
        return this.forward(event);
      case "barge_in":
        if (this.replying) this.interrupt("barge_in");
        this.speechBeganDuringReply = false;
        return;
      case "interrupt_request":
        if (this.replying) this.interrupt(event.reason);
        return;
      case "transcript":
        this.forward(event);
        if (event.transcript.isFinal) await this.onFinalTranscript(event);
        return;
      case "user_text":
        if (this.replying) this.interrupt("client");
        return this.startTurn(new Turn("text", event.text, event.at));
      default:
        this.forward(event);
    }
  }

  private async onFinalTranscript(event: EventOf<"transcript">): Promise<void> {
    // Speech that began over the reply and never reached barge-in is ignored while the reply runs
    // (a backchannel). Without echo cancellation it is ignored even once the reply has ended: it
    // may be Morgan's own voice, and its transcript arrives only after the reply's last words.
    const ignoreAsEcho = this.speechBeganDuringReply && (this.replying || !this.deps.settings().echoCancellation);
    this.speechBeganDuringReply = false;
    const text = event.transcript.text.trim();
    if (ignoreAsEcho) {
      // The user's words never go into the logs: only how long the ignored transcript was.
      this.log.info({ chars: text.length }, "speech during the reply was too short for barge-in; ignored");
      return;
    }
    if (text === "") return;
    if (this.replying) this.interrupt("barge_in");
    const origin = event.speechEndedAt ?? performance.now();
    const turn = new Turn("voice", text, origin, event.endpointingMs ?? null, event.audioMs, event.transcript.confidence);
    turn.mark("sttFinal");
    await this.startTurn(turn);
  }

  private interrupt(reason: "barge_in" | "client"): void {
    const turn = this.current;
    if (!turn) return;
    turn.cancel(`interrupted: ${reason}`);
    this.forward({ kind: "interrupt", turn, reason });
  }

  private async startTurn(turn: Turn): Promise<void> {
    const { store, settings } = this.deps;
    const conversationId = this.deps.conversationId();
    this.current = turn;
    // Context first: it must not include the message being stored for this very turn.
    const context = await store.context(conversationId);
    turn.userMessageStored = this.storeUserMessage(turn, conversationId);
    const system = settings().systemPrompt.trim();
    const messages = [...(system ? [{ role: "system" as const, content: system }] : []), ...context, { role: "user" as const, content: turn.userText }];
    this.forward({ kind: "turn_started", turn, messages });
  }

  private async storeUserMessage(turn: Turn, conversationId: string): Promise<void> {
    const { store, settings, sessionRowId } = this.deps;
    try {
      const message = await store.appendMessage(conversationId, {
        role: "user",
        content: turn.userText,
        metadata: { turn_id: turn.id, source: turn.source },
      });
      if (turn.source !== "voice") return;
      await store.recordTranscription(sessionRowId(), {
        messageId: message.id,
        text: turn.userText,
        language: settings().language,
        confidence: turn.confidence,
        durationMs: Math.round(turn.audioMs),
      });
    } catch (error) {
      logStoreFailure(this.log, error);
    }
  }
}

function logStoreFailure(log: Logger, error: unknown): void {
  log.error({ err: error }, "storing the user's message failed");
}
