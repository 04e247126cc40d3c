/**
 * Speech events + audio → transcripts. Opens one STT stream (one Triton sequence) per utterance
 * when the VAD hears speech, feeding it a short pre-roll so the first syllable is not lost, and
 * finalises it at the end of speech or at the client's utterance_end.
 */
import type { SpeechToText, SttStream } from "../../inference/types";
import { concatSamples, durationMs } from "../audio/pcm";
import type { EventOf, PipelineEvent } from "../events";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";

const SAMPLE_RATE = 16000;
/** Audio kept from before the VAD confirmed speech, on top of min_speech_ms. */
const PRE_ROLL_MARGIN_MS = 300;
/**
 * Audio goes to STT in requests of at least this much. Each request has a fixed cost at the engine
 * (CPU PocketSphinx: ~15 ms for a 20 ms chunk, measured with bench/ voice turns), so one request per
 * 20 ms microphone chunk cannot keep up with even one real-time speaker and the final transcript
 * waits behind a queue. Partials come at this cadence; the final is unaffected (the rest is flushed).
 */
const STT_REQUEST_MS = 200;

export class SttStage extends Stage {
  readonly name = "stt";
  private preRoll: Float32Array[] = [];
  private preRollMs = 0;
  private utterance?: SttStream;
  private utteranceMs = 0;
  /** Utterance audio not yet sent to STT (see STT_REQUEST_MS). */
  private pending: Float32Array[] = [];
  private pendingMs = 0;
  /** The last partial sent: engines repeat an unchanged hypothesis, the client needs it once. */
  private lastPartial = "";

  constructor(
    private readonly stt: SpeechToText,
    private readonly settings: () => ResolvedSettings,
  ) {
    super();
  }

  protected override async process(event: PipelineEvent): Promise<void> {
    switch (event.kind) {
      case "audio":
        return this.onAudio(event.samples);
      case "speech_started":
        this.forward(event);
        return this.openUtterance();
      case "speech_stopped":
        this.forward(event);
        return this.finishUtterance(event.at, event.silenceWaitMs);
      case "utterance_end":
        return this.onUtteranceEnd(event);
      default:
        this.forward(event);
    }
  }

  private onAudio(samples: Float32Array): void {
    if (this.utterance) {
      const ms = durationMs(samples.length, SAMPLE_RATE);
      this.pending.push(samples);
      this.pendingMs += ms;
      this.utteranceMs += ms;
      if (this.pendingMs >= STT_REQUEST_MS) this.flushPending();
      return;
    }
    this.preRoll.push(samples);
    this.preRollMs += durationMs(samples.length, SAMPLE_RATE);
    const keepMs = this.settings().vad.minSpeechMs + PRE_ROLL_MARGIN_MS;
    while (this.preRoll.length > 1 && this.preRollMs - durationMs(this.preRoll[0]!.length, SAMPLE_RATE) >= keepMs) {
      this.preRollMs -= durationMs(this.preRoll.shift()!.length, SAMPLE_RATE);
    }
  }

  private flushPending(): void {
    if (this.utterance && this.pending.length > 0) this.utterance.push(this.pending.length === 1 ? this.pending[0]! : concatSamples(this.pending));
    this.pending = [];
    this.pendingMs = 0;
  }

  private openUtterance(): void {
    this.utterance?.abort();
    this.pending = [];
    this.pendingMs = 0;
    this.utterance = this.stt.open({
      language: this.settings().language,
      onPartial: (transcript) => {
        if (transcript.text === this.lastPartial || transcript.text === "") return;
        this.lastPartial = transcript.text;
        this.forward({ kind: "transcript", transcript, audioMs: this.utteranceMs });
      },
    });
    this.lastPartial = "";
    this.utteranceMs = 0;
    for (const chunk of this.preRoll) this.onAudio(chunk);
    this.preRoll = [];
    this.preRollMs = 0;
  }

  private async finishUtterance(speechEndedAt: number, silenceWaitMs: number | undefined): Promise<void> {
    const utterance = this.utterance;
    if (!utterance) return;
    this.flushPending();
    this.utterance = undefined;
    const transcript = await utterance.finish();
    this.forward({ kind: "transcript", transcript, speechEndedAt, silenceWaitMs, audioMs: this.utteranceMs });
  }

  private async onUtteranceEnd(event: EventOf<"utterance_end">): Promise<void> {
    if (event.transcription !== undefined && event.transcription.trim() !== "") {
      // The client transcribed the speech itself: drop ours and take its text as final.
      this.utterance?.abort();
      this.utterance = undefined;
      this.pending = [];
      this.pendingMs = 0;
      const transcript = { text: event.transcription.trim(), isFinal: true, confidence: 1 };
      this.forward({ kind: "transcript", transcript, speechEndedAt: event.at, audioMs: this.utteranceMs });
      return;
    }
    // The VAD may not have heard speech yet (a short or quiet utterance): transcribe the pre-roll.
    if (!this.utterance && this.preRollMs > 0) this.openUtterance();
    await this.finishUtterance(event.at, undefined);
  }

  override async close(): Promise<void> {
    this.utterance?.abort();
    this.utterance = undefined;
    this.pending = [];
    this.pendingMs = 0;
  }
}
