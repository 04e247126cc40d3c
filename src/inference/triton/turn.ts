/**
 * TurnDetector over the `turn` model (Smart Turn): one request per question (docs/contract.md),
 * retried on another Triton if its own fails (failover.ts).
 */
import type { TurnDetector } from "../types";
import { type ModelServers, unaryWithFailover } from "./failover";
import { floatRow, outputScalar } from "./tensors";

export interface TurnModelOptions {
  model: string;
  requestTimeoutMs: number;
}

/** The model judges at most the last 8 s; more would only travel for nothing. */
const MAX_SAMPLES = 8 * 16000;

export class TritonTurnDetector implements TurnDetector {
  constructor(
    private readonly servers: ModelServers,
    private readonly options: TurnModelOptions,
  ) {}

  async predict(audio: Float32Array, signal?: AbortSignal): Promise<number> {
    if (audio.length === 0) throw new RangeError("the turn model needs some audio");
    const input = floatRow("AUDIO", audio.subarray(Math.max(0, audio.length - MAX_SAMPLES)));
    const { value: response } = await unaryWithFailover(this.servers, this.options.model, signal, (client, leaseSignal) =>
      client.infer({ model: this.options.model, inputs: [input] }, { signal: leaseSignal, deadlineMs: this.options.requestTimeoutMs }),
    );
    const probability = outputScalar(response, "PROBABILITY");
    if (!Number.isFinite(probability)) throw new Error(`model ${this.options.model}: PROBABILITY is not a number`);
    return Math.min(1, Math.max(0, probability));
  }
}
