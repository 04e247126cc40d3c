/**
 * TurnDetector over the `turn` model: Smart Turn on the audio and the text check on the words, one
 * request per question (docs/contract.md), retried on another Triton if its own fails (failover.ts).
 */
import type { InferResponse, Tensor } from "@triton-client";
import type { TurnDetector } from "../types";
import { type ModelServers, unaryWithFailover } from "./failover";
import { floatRow, outputScalar, textRow } from "./tensors";

export interface TurnModelOptions {
  model: string;
  requestTimeoutMs: number;
}

/** The model judges at most the last 8 s; more would only travel for nothing. */
const MAX_SAMPLES = 8 * 16000;
/** The text check reads the last words only; a long monologue need not travel whole. */
const MAX_TRANSCRIPT_CHARS = 1000;
/**
 * What the model answers a transcript where it cannot run the text check (triton-models/cpu/turn), or
 * Triton where the model declares no TRANSCRIPT input at all (an older or custom repository).
 */
const UNAVAILABLE = /text check unavailable|unexpected inference input 'TRANSCRIPT'/;

export class TritonTurnDetector implements TurnDetector {
  /** Once the model has said it has no text check, it is not asked again. */
  private textUnavailable = false;

  constructor(
    private readonly servers: ModelServers,
    private readonly options: TurnModelOptions,
  ) {}

  async predict(audio: Float32Array, signal?: AbortSignal): Promise<number> {
    if (audio.length === 0) throw new RangeError("the turn model needs some audio");
    return this.probability(floatRow("AUDIO", audio.subarray(Math.max(0, audio.length - MAX_SAMPLES))), signal);
  }

  async predictText(transcript: string, signal?: AbortSignal): Promise<number | null> {
    if (this.textUnavailable) return null;
    if (transcript.trim() === "") throw new RangeError("the text check needs some words");
    try {
      return await this.probability(textRow("TRANSCRIPT", transcript.slice(-MAX_TRANSCRIPT_CHARS)), signal);
    } catch (error) {
      if (!(error instanceof Error) || !UNAVAILABLE.test(error.message)) throw error;
      this.textUnavailable = true;
      return null;
    }
  }

  private async probability(input: Tensor, signal?: AbortSignal): Promise<number> {
    const { value: response } = await unaryWithFailover(this.servers, this.options.model, signal, (client, leaseSignal) =>
      client.infer({ model: this.options.model, inputs: [input] }, { signal: leaseSignal, deadlineMs: this.options.requestTimeoutMs }),
    );
    return clampedProbability(response, this.options.model);
  }
}

function clampedProbability(response: InferResponse, model: string): number {
  const probability = outputScalar(response, "PROBABILITY");
  if (!Number.isFinite(probability)) throw new Error(`model ${model}: PROBABILITY is not a number`);
  return Math.min(1, Math.max(0, probability));
}
