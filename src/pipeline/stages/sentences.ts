/**
 * Text deltas → sentences, so speech can start while the model is still writing.
 */
import type { PipelineEvent } from "../events";
import { SentenceSplitter } from "../text/sentences";
import { Stage } from "../stage";
import type { TurnView } from "../turn-taking/turn";

interface TurnText {
  splitter: SentenceSplitter;
  count: number;
}

export class SentenceStage extends Stage {
  readonly name = "sentences";
  private readonly turns = new Map<string, TurnText>();

  protected override process(event: PipelineEvent): void {
    this.forward(event);
    switch (event.kind) {
      case "llm_delta":
        return this.emitSentences(event.turn, this.state(event.turn).splitter.push(event.text));
      case "llm_done": {
        const state = this.state(event.turn);
        this.emitSentences(event.turn, state.splitter.flush());
        this.turns.delete(event.turn.id);
        return this.forward({ kind: "sentences_done", turn: event.turn });
      }
      case "interrupt":
        this.turns.delete(event.turn.id);
    }
  }

  private state(turn: TurnView): TurnText {
    let state = this.turns.get(turn.id);
    if (!state) {
      state = { splitter: new SentenceSplitter(), count: 0 };
      this.turns.set(turn.id, state);
    }
    return state;
  }

  private emitSentences(turn: TurnView, sentences: string[]): void {
    const state = this.state(turn);
    for (const text of sentences) {
      this.forward({ kind: "sentence", turn, index: state.count++, text });
    }
  }
}
