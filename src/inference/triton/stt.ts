/**
 * SpeechToText over the `stt` model: one Triton sequence per utterance on its own gRPC stream.
 * Chunks are sent as they arrive; partial hypotheses come back on their responses, and the
 * request that ends the sequence carries the final transcript (docs/contract.md).
 */
import type { InferResponse, TritonClient, TritonStream } from "@triton-client";
import type { SpeechToText, SttStream, Transcript } from "../types";
import { concatSamples } from "../../audio/pcm";
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
    private readonly client: TritonClient,
    private readonly options: SttModelOptions,
  ) {}

  open(options: { language: string; onPartial: (t: Transcript) => void }): SttStream {
    return new TritonSttStream(this.client.openStream(), this.options, options.onPartial);
  }
}

class TritonSttStream implements SttStream {
  private readonly sequenceId = newSequenceId();
  private sent = 0;
  /**
   * Audio not yet sent. The latest chunk always stays here, so the request that ends the sequence
   * carries real audio; and while MAX_IN_FLIGHT requests are unanswered, chunks gather here and go
   * as one larger request. A model that falls behind thus gets fewer, longer requests instead of a
   * queue of thousands (back-pressure with a bounded number of requests per utterance).
   */
  private unsent: Float32Array[] = [];
  private inFlight = 0;
  private partials: Promise<void>[] = [];
  private done = false;

  constructor(
    private readonly stream: TritonStream,
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
    const latest = this.unsent.pop()!;
    const audio = concatSamples(this.unsent);
    this.unsent = [latest];
    this.inFlight += 1;
    const answered = this.consumePartials(this.send(audio, false)).finally(() => {
      this.inFlight -= 1;
      this.sendAhead();
    });
    this.partials.push(answered);
  }

  async finish(signal?: AbortSignal): Promise<Transcript> {
    if (this.done) throw new Error("STT stream already finished");
    this.done = true;
    if (this.unsent.length === 0) {
      this.stream.close();
      return { text: "", isFinal: true, confidence: 0 };
    }
    const rest = concatSamples(this.unsent);
    this.unsent = [];
    try {
      let final: Transcript | undefined;
      for await (const response of this.send(rest, true, signal)) {
        const transcript = toTranscript(response);
        if (transcript?.isFinal) final = transcript;
      }
      await Promise.allSettled(this.partials);
      return final ?? { text: "", isFinal: true, confidence: 0 };
    } finally {
      this.stream.close();
    }
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    // Closing the stream cancels the sequence's in-flight work at Triton.
    this.stream.close();
  }

  private send(samples: Float32Array, end: boolean, signal?: AbortSignal): AsyncIterable<InferResponse> {
    const start = this.sent === 0;
    this.sent += 1;
    return this.stream.infer(
      {
        model: this.options.model,
        inputs: [floatRow("WAV", samples)],
        sequenceId: this.sequenceId,
        sequenceStart: start,
        sequenceEnd: end,
      },
      { signal, deadlineMs: this.options.requestTimeoutMs },
    );
  }

  private async consumePartials(responses: AsyncIterable<InferResponse>): Promise<void> {
    try {
      for await (const response of responses) {
        const transcript = toTranscript(response);
        if (transcript && !transcript.isFinal && !this.done) this.onPartial(transcript);
      }
    } catch {
      // A partial that fails costs nothing: the final transcript is what counts.
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
