/** TextToSpeech over the `tts` model: one response per synthesised sentence (docs/contract.md). */
import type { TritonClient } from "@triton-client";
import type { AudioChunk, SynthesisRequest, TextToSpeech } from "../types";
import { float, hasOutput, outputFloats, outputScalar, text } from "./tensors";

export interface TtsModelOptions {
  model: string;
  requestTimeoutMs: number;
}

export class TritonTextToSpeech implements TextToSpeech {
  constructor(
    private readonly client: TritonClient,
    private readonly options: TtsModelOptions,
  ) {}

  async *synthesize(request: SynthesisRequest, signal?: AbortSignal): AsyncIterable<AudioChunk> {
    const stream = this.client.openStream({ signal });
    try {
      const responses = stream.infer(
        {
          model: this.options.model,
          inputs: [text("target_text", request.text), text("voice", request.voice), float("speed", request.speed)],
        },
        { signal, deadlineMs: this.options.requestTimeoutMs },
      );
      for await (const response of responses) {
        if (!hasOutput(response, "waveform")) continue;
        const samples = outputFloats(response, "waveform");
        if (samples.length > 0) yield { samples, sampleRate: outputScalar(response, "sample_rate") };
      }
    } finally {
      stream.close();
    }
  }
}
