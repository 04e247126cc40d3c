/**
 * Speech recognition of one utterance at a time, with a short pre-roll so the first syllable is not
 * lost, and speculative finals: at the first pause the utterance is finalised at once (its Triton
 * sequence ends), so the transcript is ready, or nearly, when the turn ends. If the user goes on, the
 * speculative result is discarded and a new sequence is opened with the utterance's audio so far.
 * The audio of the utterance is kept, for that and for the turn model.
 */
import type { SpeechToText, SttStream, Transcript } from "../../inference/types";
import { concatSamples, durationMs } from "../../audio/pcm";

const SAMPLE_RATE = 16000;
/** Audio kept from before the VAD confirmed speech, on top of min_speech_ms. */
const PRE_ROLL_MARGIN_MS = 300;
const EMPTY: Transcript = { text: "", isFinal: true, confidence: 0 };

export type SpeculationOutcome = "used" | "discarded";

export interface RecognizerHooks {
  /** A partial hypothesis of the current utterance (only when it changes). */
  partial(transcript: Transcript, audioMs: number): void;
  /** A speculative final was used as the final, or thrown away because the user went on. */
  speculation(outcome: SpeculationOutcome): void;
}

export class Recognizer {
  private preRoll: Float32Array[] = [];
  private preRollMs = 0;
  private audio: Float32Array[] = [];
  private audioMs = 0;
  private stream?: SttStream;
  private speculative?: Promise<Transcript>;
  private lastPartial = "";

  constructor(
    private readonly stt: SpeechToText,
    private readonly language: () => string,
    private readonly preRollKeepMs: () => number,
    private readonly hooks: RecognizerHooks,
  ) {}

  /** Whether an utterance is being recognised. */
  get active(): boolean {
    return this.stream !== undefined || this.speculative !== undefined;
  }

  /** Milliseconds of audio in the current utterance. */
  get utteranceMs(): number {
    return this.audioMs;
  }

  push(samples: Float32Array): void {
    if (this.active) {
      this.audio.push(samples);
      this.audioMs += durationMs(samples.length, SAMPLE_RATE);
      this.stream?.push(samples);
      return;
    }
    this.preRoll.push(samples);
    this.preRollMs += durationMs(samples.length, SAMPLE_RATE);
    const keepMs = this.preRollKeepMs() + PRE_ROLL_MARGIN_MS;
    while (this.preRoll.length > 1 && this.preRollMs - durationMs(this.preRoll[0]!.length, SAMPLE_RATE) >= keepMs) {
      this.preRollMs -= durationMs(this.preRoll.shift()!.length, SAMPLE_RATE);
    }
  }

  /** Opens an utterance with the pre-roll (the audio just before speech was confirmed). */
  start(): void {
    this.abort();
    const preRoll = this.preRoll;
    this.preRoll = [];
    this.preRollMs = 0;
    this.lastPartial = "";
    this.stream = this.open();
    for (const chunk of preRoll) this.push(chunk);
  }

  /** Finalises the utterance now, keeping the result for `finish` unless the user goes on. */
  speculate(): void {
    if (!this.stream) return;
    const stream = this.stream;
    this.stream = undefined;
    this.speculative = stream.finish();
    this.speculative.catch(() => {}); // a failure surfaces in finish()
  }

  /** The speculative final of the current pause, while it stands. */
  get speculation(): Promise<Transcript> | undefined {
    return this.speculative;
  }

  /** The user went on after a pause: drop the speculative final and resume with a fresh sequence. */
  resume(): void {
    if (!this.speculative) return;
    this.speculative = undefined;
    this.hooks.speculation("discarded");
    this.stream = this.open();
    this.stream.push(concatSamples(this.audio));
  }

  /** Ends the utterance: the speculative final when the user said nothing since, else a final now. */
  async finish(): Promise<Transcript> {
    const { stream, speculative } = this;
    this.stream = undefined;
    this.speculative = undefined;
    this.audio = [];
    this.audioMs = 0;
    if (speculative) {
      this.hooks.speculation("used");
      return speculative;
    }
    return stream ? stream.finish() : EMPTY;
  }

  /** The last `ms` of the utterance's audio (the turn model's input). */
  recent(ms: number): Float32Array {
    const all = concatSamples(this.audio);
    return all.subarray(Math.max(0, all.length - Math.round((ms / 1000) * SAMPLE_RATE)));
  }

  /** Drops the utterance at Triton without a result. */
  abort(): void {
    this.stream?.abort();
    this.stream = undefined;
    this.speculative = undefined;
    this.audio = [];
    this.audioMs = 0;
  }

  private open(): SttStream {
    return this.stt.open({
      language: this.language(),
      onPartial: (transcript) => {
        if (transcript.text === this.lastPartial || transcript.text === "") return;
        this.lastPartial = transcript.text;
        this.hooks.partial(transcript, this.audioMs);
      },
    });
  }
}
