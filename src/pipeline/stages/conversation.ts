/**
 * User turns → LLM input. For each turn that turn-taking decides, reads the conversation's recent
 * context, stores the user's message (and, for speech, its transcription row) and starts the reply
 * with the messages the LLM answers: system prompt, context, the user's words.
 */
import { ConversationGoneError, type PipelineStore } from "../ports";
import type { PipelineEvent } from "../events";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";
import type { ChatMessage } from "../text/chat-template";
import type { TurnView } from "../turn-taking/turn";
import type { WriteBacklog } from "../write-backlog";

export interface ConversationStageDeps {
  store: PipelineStore;
  /** The session's writes under way: a turn while it is full is refused, not queued. */
  writes: WriteBacklog;
  conversationId: () => string;
  /** The streaming_sessions row the transcriptions belong to. */
  sessionRowId: () => string;
  settings: () => ResolvedSettings;
}

export class ConversationStage extends Stage {
  readonly name = "conversation";

  constructor(private readonly deps: ConversationStageDeps) {
    super();
  }

  protected override async process(event: PipelineEvent): Promise<void> {
    this.forward(event);
    if (event.kind !== "user_turn") return;
    const { turn } = event;
    if (this.deps.writes.full) {
      const message = `${this.deps.writes.pending} messages of this session are still waiting to be stored; this turn was dropped, send it again later`;
      this.forward({ kind: "error", code: "rate_limited", message, turn });
      return;
    }
    const conversationId = this.deps.conversationId();
    // Context first: it must not include the message being stored for this very turn.
    let context: ChatMessage[];
    try {
      context = await this.deps.store.context(conversationId);
    } catch (error) {
      if (!(error instanceof ConversationGoneError)) throw error;
      return this.conversationGone(turn);
    }
    const system = this.deps.settings().systemPrompt.trim();
    const messages: ChatMessage[] = [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      ...context,
      { role: "user", content: turn.userText },
    ];
    const userMessageStored = this.storeUserMessage(turn, conversationId);
    this.forward({ kind: "turn_started", turn, messages, userMessageStored });
  }

  /** Durable before it resolves; a failure is reported to the client (the reply is then stored without it). */
  private async storeUserMessage(turn: TurnView, conversationId: string): Promise<void> {
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
      if (error instanceof ConversationGoneError) return this.conversationGone(turn);
      this.log.error({ err: error, turn_id: turn.id }, "storing the user's message failed");
      // Reported without the turn: the reply goes on, and is stored without the user's message.
      this.forward({ kind: "error", code: "storage_failed", message: "your message could not be stored" });
    }
  }

  private conversationGone(turn: TurnView): void {
    const message = "this session's conversation was deleted; the session ends (start a new one)";
    this.forward({ kind: "error", code: "conversation_deleted", message, turn, fatal: true });
  }
}
