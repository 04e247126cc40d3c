/**
 * Turns → text deltas. Streams the reply from the language model; the turn's abort signal cancels
 * the request at Triton when the turn is interrupted.
 */
import type { LanguageModel } from "../../inference/types";
import type { PipelineEvent } from "../events";
import { STOP_SEQUENCES } from "../prompt";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";
import type { Turn } from "../turn";

export class LlmStage extends Stage {
  readonly name = "llm";

  constructor(
    private readonly llm: LanguageModel,
    private readonly settings: () => ResolvedSettings,
  ) {
    super();
  }

  protected override process(event: PipelineEvent): void {
    this.forward(event);
    // Generation runs beside the queue so the next events (a barge-in) are not held behind it.
    if (event.kind === "turn_started") void this.generate(event.turn, event.prompt);
  }

  private async generate(turn: Turn, prompt: string): Promise<void> {
    const settings = this.settings();
    try {
      const request = {
        prompt,
        maxTokens: settings.maxResponseTokens,
        temperature: settings.temperature,
        seed: settings.seed,
        stop: STOP_SEQUENCES,
      };
      for await (const delta of this.llm.stream(request, turn.signal)) {
        if (turn.cancelled) return;
        turn.mark("llmFirstToken");
        turn.text += delta;
        turn.tokens += 1;
        this.forward({ kind: "llm_delta", turn, text: delta });
      }
      this.forward({ kind: "llm_done", turn });
    } catch (error) {
      if (!turn.cancelled) this.fail(error, { kind: "llm_done", turn });
    }
  }
}
