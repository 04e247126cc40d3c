/**
 * VoiceActivityDetector over the `vad` model: one Triton sequence per audio stream (docs/contract.md).
 * The sequence stays on the Triton where it started; if that one fails, the stream starts a fresh
 * sequence on another (the detector's state is a few hundred milliseconds of context, soon rebuilt).
 */
import type { TritonClient } from "@triton-client";
import type { VadFrame, VadStream, VoiceActivityDetector } from "../types";
import { type ModelServers, unaryWithFailover } from "./failover";
import { newSequenceId } from "./sequence-ids";
import { floatRow, outputFloats } from "./tensors";

/** Silero VAD decides per 512 samples at 16 kHz. */
const FRAME_MS = 32;

export interface VadModelOptions {
  model: string;
  requestTimeoutMs: number;
}

export class TritonVad implements VoiceActivityDetector {
  constructor(
    private readonly servers: ModelServers,
    private readonly options: VadModelOptions,
  ) {}

  open(): VadStream {
    return new TritonVadStream(this.servers, this.options);
  }
}

class TritonVadStream implements VadStream {
  private sequenceId = newSequenceId();
  private started = false;
  private closed = false;
  /** The endpoint holding the sequence, once started. */
  private home: { url: string; client: TritonClient } | undefined;

  constructor(
    private readonly servers: ModelServers,
    private readonly options: VadModelOptions,
  ) {}

  async push(samples: Float32Array, signal?: AbortSignal): Promise<VadFrame[]> {
    if (this.closed) throw new Error("VAD stream is closed");
    try {
      return await this.send(samples, signal);
    } catch (error) {
      if (!this.started || signal?.aborted) throw error;
      // Triton drops a sequence that idled past max_sequence_idle_microseconds (a client that paused
      // its microphone): start a fresh one rather than failing the session.
      this.sequenceId = newSequenceId();
      this.started = false;
      return this.send(samples, signal);
    }
  }

  private async send(samples: Float32Array, signal?: AbortSignal): Promise<VadFrame[]> {
    const { value: response, url, client } = await unaryWithFailover(
      this.servers,
      this.options.model,
      signal,
      (client, leaseSignal, url) => {
        // Landing anywhere but where the sequence lives means starting a new one there.
        if (this.started && url !== this.home?.url) {
          this.sequenceId = newSequenceId();
          this.started = false;
        }
        return client.infer(
          {
            model: this.options.model,
            inputs: [floatRow("AUDIO", samples)],
            sequenceId: this.sequenceId,
            sequenceStart: !this.started,
          },
          { signal: leaseSignal, deadlineMs: this.options.requestTimeoutMs },
        );
      },
      this.home?.url,
    );
    this.home = { url, client };
    this.started = true;
    return Array.from(outputFloats(response, "PROBS"), (probability) => ({ probability, durationMs: FRAME_MS }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.started || !this.home) return;
    await this.home.client
      .infer(
        {
          model: this.options.model,
          inputs: [floatRow("AUDIO", new Float32Array(512))],
          sequenceId: this.sequenceId,
          sequenceEnd: true,
        },
        { deadlineMs: this.options.requestTimeoutMs },
      )
      .catch(() => {
        // The sequence is gone already (Triton restarted or it idled out): nothing to release.
      });
  }
}
