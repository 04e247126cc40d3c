/**
 * LanguageModel over an `llm` model with Triton's vLLM-backend interface: the CPU n-gram model
 * here, a real vLLM model on a GPU host — the same request either way (docs/contract.md).
 * Each generation gets its own gRPC stream so that aborting it cancels the work at Triton. With
 * several Tritons it goes to the least busy one, and moves to another if its server fails before the
 * first token (failover.ts).
 */
import type { TritonClient } from "@triton-client";
import type { GenerationRequest, LanguageModel } from "../types";
import { type ModelServers, streamWithFailover } from "./failover";
import { flag, hasOutput, outputText, text } from "./tensors";

export interface LlmModelOptions {
  model: string;
  requestTimeoutMs: number;
}

export class TritonLanguageModel implements LanguageModel {
  constructor(
    private readonly servers: ModelServers,
    private readonly options: LlmModelOptions,
  ) {}

  stream(request: GenerationRequest, signal?: AbortSignal): AsyncIterable<string> {
    return streamWithFailover(this.servers, this.options.model, signal, (client, leaseSignal) => this.streamOn(client, request, leaseSignal));
  }

  private async *streamOn(client: TritonClient, request: GenerationRequest, signal: AbortSignal): AsyncIterable<string> {
    const sampling = {
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      ...(request.repetitionPenalty === undefined ? {} : { repetition_penalty: request.repetitionPenalty }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.stop && request.stop.length > 0 ? { stop: request.stop } : {}),
    };
    const stream = client.openStream({ signal });
    try {
      const responses = stream.infer(
        {
          model: this.options.model,
          inputs: [
            text("text_input", request.prompt),
            flag("stream", true),
            text("sampling_parameters", JSON.stringify(sampling)),
            flag("exclude_input_in_output", true),
          ],
        },
        { signal, deadlineMs: this.options.requestTimeoutMs },
      );
      for await (const response of responses) {
        if (!hasOutput(response, "text_output")) continue;
        const delta = outputText(response, "text_output");
        if (delta !== "") yield delta;
      }
    } finally {
      stream.close();
    }
  }
}
