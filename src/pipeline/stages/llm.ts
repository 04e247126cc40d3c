/**
 * Turns → text deltas. Formats the conversation with the model's chat template and streams the reply
 * from the language model; the turn's abort signal cancels the request at Triton when the turn is
 * interrupted.
 */
import type { LanguageModel } from "../../inference/types";
import type { PipelineEvent } from "../events";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";
import type { ChatMessage, ChatTemplate } from "../text/chat-template";
import type { TurnView } from "../turn-taking/turn";

export class LlmStage extends Stage {
  readonly name = "llm";

  constructor(
    private readonly llm: LanguageModel,
    private readonly settings: () => ResolvedSettings,
    private readonly template: ChatTemplate,
  ) {
    super();
  }

  /** The request of the last turn, until it has ended (a cancelled one too, until Triton let it go). */
  private current: Promise<void> = Promise.resolve();

  protected override process(event: PipelineEvent): void {
    this.forward(event);
    // Generation runs beside the queue so the next events (a barge-in) are not held behind it.
    if (event.kind === "turn_started") {
      const previous = this.current;
      this.current = this.generate(event.turn, event.messages, previous);
    }
  }

  /**
   * One request at a time per session: a turn waits until the request it superseded has wound down,
   * and sends none if it was superseded itself meanwhile. A burst of texts so costs Triton one
   * cancellation, not one per text (cancellation storms crash Triton 2.51: issue 12, defect 6).
   */
  private async generate(turn: TurnView, messages: ChatMessage[], previous: Promise<void>): Promise<void> {
    await previous;
    if (turn.cancelled) return;
    const settings = this.settings();
    try {
      const request = {
        prompt: this.template.format(messages),
        maxTokens: settings.maxResponseTokens,
        temperature: settings.temperature,
        repetitionPenalty: settings.repetitionPenalty,
        seed: settings.seed,
        stop: [...this.template.stop],
      };
      for await (const delta of this.llm.stream(request, turn.signal)) {
        if (turn.cancelled) return;
        this.forward({ kind: "llm_delta", turn, text: delta });
      }
      this.forward({ kind: "llm_done", turn });
    } catch (error) {
      if (!turn.cancelled) this.fail(error, { kind: "llm_done", turn });
    }
  }
}
