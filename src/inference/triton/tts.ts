/**
 * TextToSpeech over the `tts` model: one response per synthesised sentence (docs/contract.md). The
 * installed voices are the keys of the model's `voices` parameter in its config.pbtxt, read from
 * Triton's model configuration. With several Tritons a synthesis moves to another server if its own
 * fails before the first audio (failover.ts).
 */
import type { TritonClient } from "@triton-client";
import type { AudioChunk, SynthesisRequest, TextToSpeech } from "../types";
import { type ModelServers, streamWithFailover, unaryWithFailover } from "./failover";
import { float, hasOutput, outputFloats, outputScalar, text } from "./tensors";

export interface TtsModelOptions {
  model: string;
  requestTimeoutMs: number;
}

/** The voice list is re-read this often, so a reloaded model's new voices are seen. */
const VOICES_TTL_MS = 60_000;

export class TritonTextToSpeech implements TextToSpeech {
  private voiceList?: { names: Promise<string[]>; at: number };

  constructor(
    private readonly servers: ModelServers,
    private readonly options: TtsModelOptions,
  ) {}

  synthesize(request: SynthesisRequest, signal?: AbortSignal): AsyncIterable<AudioChunk> {
    return streamWithFailover(this.servers, this.options.model, signal, (client, leaseSignal) => this.synthesizeOn(client, request, leaseSignal));
  }

  private async *synthesizeOn(client: TritonClient, request: SynthesisRequest, signal: AbortSignal): AsyncIterable<AudioChunk> {
    const stream = client.openStream({ signal });
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

  voices(): Promise<string[]> {
    const cached = this.voiceList;
    if (cached && performance.now() - cached.at < VOICES_TTL_MS) return cached.names;
    const names = this.readVoices();
    this.voiceList = { names, at: performance.now() };
    names.catch(() => {
      if (this.voiceList?.names === names) this.voiceList = undefined;
    });
    return names;
  }

  private async readVoices(): Promise<string[]> {
    const { value: config } = await unaryWithFailover(this.servers, this.options.model, undefined, (client, signal) =>
      client.modelConfig(this.options.model, "", { signal, deadlineMs: this.options.requestTimeoutMs }),
    );
    const raw = config.parameters?.voices?.string_value;
    if (!raw) throw new Error(`model ${this.options.model} has no voices parameter in its config.pbtxt`);
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error(`model ${this.options.model}: the voices parameter is not a JSON object`);
    }
    return Object.keys(parsed).sort();
  }
}
