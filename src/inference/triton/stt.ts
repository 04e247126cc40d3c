/**
 * SpeechToText over the `stt` model: one Triton sequence per utterance on its own gRPC stream.
 * Chunks are sent as they arrive; partial hypotheses come back on their responses, and the
 * request that ends the sequence carries the final transcript (docs/contract.md).
 *
 * The stream keeps the audio it has sent for the utterance. If its Triton fails (unreachable, stream
 * broken, or declared down by the pool's probe), the sequence is re-opened on another Triton with
 * that audio in one request, and the utterance goes on there: the user's words are not lost.
 */
import type { InferResponse, TritonClient, TritonStream } from "@triton-client";
import type { SpeechToText, SttStream, Transcript } from "../types";
import { concatSamples } from "../../audio/pcm";
import { type ModelServers, endpointFailed } from "./failover";
import type { Lease } from "./pool";
import { newSequenceId } from "./sequence-ids";

/** Unanswered chunk requests per utterance before audio gathers into larger requests. */
const MAX_IN_FLIGHT = 2;
import { floatRow, hasOutput, outputFlag, outputScalar, outputText } from "./tensors";

export interface SttModelOptions {
  model: string;
  requestTimeoutMs: number;
}

export class TritonSpeechToText implements SpeechToText {
  constructor(
    private readonly servers: ModelServers,
    private readonly options: SttModelOptions,
  ) {}

  open(options: { language: string; onPartial: (t: Transcript) => void }): SttStream {
    return new TritonSttStream(this.servers, this.options, options.onPartial);
  }
}

/** Where the utterance's sequence lives now. */
interface Placement {
  lease: Lease<TritonClient>;
  stream: TritonStream;
  sequenceId: bigint;
  /** Requests sent on this sequence (the first one starts it). */
  sent: number;
}

class TritonSttStream implements SttStream {
  private placement: Placement | undefined;
  /** Endpoints this utterance failed on. */
  private readonly avoid = new Set<string>();
  /** Set when no endpoint is left to take the utterance. */
  private failure: unknown;
  /**
   * Audio not yet sent. The latest chunk always stays here, so the request that ends the sequence
   * carries real audio; and while MAX_IN_FLIGHT requests are unanswered, chunks gather here and go
   * as one larger request. A model that falls behind thus gets fewer, longer requests instead of a
   * queue of thousands (back-pressure with a bounded number of requests per utterance).
   */
  private unsent: Float32Array[] = [];
  /** Everything sent for this utterance: what a new sequence on another Triton needs. */
  private history: Float32Array[] = [];
  private inFlight = 0;
  private partials: Promise<void>[] = [];
  private done = false;

  constructor(
    private readonly servers: ModelServers,
    private readonly options: SttModelOptions,
    private readonly onPartial: (t: Transcript) => void,
  ) {}

  push(samples: Float32Array): void {
    if (this.done || samples.length === 0) return;
    this.unsent.push(samples);
    this.sendAhead();
  }

  /** Sends all unsent audio but the latest chunk, when few enough requests are in flight. */
  private sendAhead(): void {
    if (this.done || this.unsent.length < 2 || this.inFlight >= MAX_IN_FLIGHT) return;
    const placement = this.place();
    if (!placement) return;
    const latest = this.unsent.pop()!;
    const audio = concatSamples(this.unsent);
    this.unsent = [latest];
    this.history.push(audio);
    this.sendPartial(placement, audio);
  }

  private sendPartial(placement: Placement, audio: Float32Array): void {
    this.inFlight += 1;
    const answered = this.consumePartials(placement, this.send(placement, audio, false)).finally(() => {
      this.inFlight -= 1;
      this.sendAhead();
    });
    this.partials.push(answered);
  }

  async finish(signal?: AbortSignal): Promise<Transcript> {
    if (this.done) throw new Error("STT stream already finished");
    this.done = true;
    if (this.unsent.length === 0) {
      this.release();
      return { text: "", isFinal: true, confidence: 0 };
    }
    let rest = concatSamples(this.unsent);
    this.unsent = [];
    try {
      for (;;) {
        const placement = this.place();
        if (!placement) throw this.failure;
        try {
          let final: Transcript | undefined;
          for await (const response of this.send(placement, rest, true, signal)) {
            const transcript = toTranscript(response);
            if (transcript?.isFinal) final = transcript;
          }
          await Promise.allSettled(this.partials);
          return final ?? { text: "", isFinal: true, confidence: 0 };
        } catch (error) {
          if (!endpointFailed(this.servers, placement.lease, error, signal)) throw error;
          // The whole utterance goes to the next Triton as one request that starts and ends its sequence.
          this.moveAway(placement);
          rest = concatSamples([...this.history, rest]);
          this.history = [];
        }
      }
    } finally {
      this.release();
    }
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    // Closing the stream cancels the sequence's in-flight work at Triton.
    this.release();
  }

  /** The current placement, or a new one on the least busy endpoint not yet failed on. */
  private place(): Placement | undefined {
    if (this.placement) return this.placement;
    if (this.failure) return undefined;
    let lease: Lease<TritonClient>;
    try {
      lease = this.servers.acquire(this.options.model, this.avoid);
    } catch (error) {
      this.failure = error;
      return undefined;
    }
    // The lease's signal closes the stream when the pool declares its endpoint down (a hung server).
    const stream = lease.endpoint.client.openStream({ signal: lease.signal });
    this.placement = { lease, stream, sequenceId: newSequenceId(), sent: 0 };
    return this.placement;
  }

  /** Leaves a failed endpoint for good; the next place() picks another. */
  private moveAway(placement: Placement): void {
    if (this.placement !== placement) return;
    this.avoid.add(placement.lease.endpoint.url);
    this.release();
  }

  private release(): void {
    const placement = this.placement;
    if (!placement) return;
    this.placement = undefined;
    placement.stream.close();
    placement.lease.release();
  }

  private send(placement: Placement, samples: Float32Array, end: boolean, signal?: AbortSignal): AsyncIterable<InferResponse> {
    const start = placement.sent === 0;
    placement.sent += 1;
    return placement.stream.infer(
      {
        model: this.options.model,
        inputs: [floatRow("WAV", samples)],
        sequenceId: placement.sequenceId,
        sequenceStart: start,
        sequenceEnd: end,
      },
      { signal, deadlineMs: this.options.requestTimeoutMs },
    );
  }

  private async consumePartials(placement: Placement, responses: AsyncIterable<InferResponse>): Promise<void> {
    try {
      for await (const response of responses) {
        const transcript = toTranscript(response);
        if (transcript && !transcript.isFinal && !this.done) this.onPartial(transcript);
      }
    } catch (error) {
      // A partial that fails costs nothing: the final transcript is what counts. But if its Triton
      // failed, the utterance moves now, so that partials go on and the final is not delayed.
      if (this.done || this.placement !== placement || !endpointFailed(this.servers, placement.lease, error)) return;
      this.moveAway(placement);
      const next = this.place();
      if (next && this.history.length > 0) this.sendPartial(next, concatSamples(this.history));
    }
  }
}

function toTranscript(response: InferResponse): Transcript | undefined {
  if (!hasOutput(response, "TRANSCRIPTS")) return undefined;
  return {
    text: outputText(response, "TRANSCRIPTS").trim(),
    isFinal: hasOutput(response, "IS_FINAL") ? outputFlag(response, "IS_FINAL") : false,
    confidence: hasOutput(response, "CONFIDENCE") ? clamp01(outputScalar(response, "CONFIDENCE")) : 0,
  };
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
