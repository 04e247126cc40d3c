/**
 * Speech events + audio → transcripts. Opens one STT stream (one Triton sequence) per utterance
 * when the VAD hears speech, feeding it a short pre-roll so the first syllable is not lost, and
 * finalises it at the end of speech or at the client's utterance_end.
 */
import type { SpeechToText, SttStream } from "../../inference/types";
import { durationMs } from "../../audio/pcm";
import type { EventOf, PipelineEvent } from "../events";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";

const SAMPLE_RATE = 16000;
/** Audio kept from before the VAD confirmed speech, on top of min_speech_ms. */
const PRE_ROLL_MARGIN_MS = 300;

export class SttStage extends Stage {
  readonly name = "stt";
  private preRoll: Float32Array[] = [];
  private preRollMs = 0;
  private utterance?: SttStream;
  private utteranceMs = 0;
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
        return this.finishUtterance(event.speechEndedAt, event.at - event.speechEndedAt);
      case "utterance_end":
        return this.onUtteranceEnd(event);
      default:
        this.forward(event);
    }
  }

  private onAudio(samples: Float32Array): void {
    if (this.utterance) {
      this.utterance.push(samples);
      this.utteranceMs += durationMs(samples.length, SAMPLE_RATE);
      return;
    }
    this.preRoll.push(samples);
    this.preRollMs += durationMs(samples.length, SAMPLE_RATE);
    const keepMs = this.settings().vad.minSpeechMs + PRE_ROLL_MARGIN_MS;
    while (this.preRoll.length > 1 && this.preRollMs - durationMs(this.preRoll[0]!.length, SAMPLE_RATE) >= keepMs) {
      this.preRollMs -= durationMs(this.preRoll.shift()!.length, SAMPLE_RATE);
    }
  }

  private openUtterance(): void {
    this.utterance?.abort();
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

  private async finishUtterance(speechEndedAt: number, endpointingMs: number | undefined): Promise<void> {
    const utterance = this.utterance;
    if (!utterance) return;
    this.utterance = undefined;
    const transcript = await utterance.finish();
    this.forward({ kind: "transcript", transcript, speechEndedAt, endpointingMs, audioMs: this.utteranceMs });
  }

  private async onUtteranceEnd(event: EventOf<"utterance_end">): Promise<void> {
    if (event.transcription !== undefined && event.transcription.trim() !== "") {
      // The client transcribed the speech itself: drop ours and take its text as final.
      this.utterance?.abort();
      this.utterance = undefined;
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
  }
}
