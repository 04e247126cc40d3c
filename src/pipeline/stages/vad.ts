/**
 * Audio → speech events. Runs every chunk through the VAD model (one Triton sequence per session)
 * and turns per-frame speech probabilities into speech_started / speech_stopped / barge_in.
 */
import type { VadFrame, VadStream, VoiceActivityDetector } from "../../inference/types";
import type { PipelineEvent } from "../events";
import { type ResolvedSettings, bargeInThresholdMs } from "../settings";
import { Stage } from "../stage";

/** Below threshold minus this, a frame counts as silence; between the two it changes nothing. */
const HYSTERESIS = 0.15;

export class VadStage extends Stage {
  readonly name = "vad";
  private stream?: VadStream;
  private speaking = false;
  private speechMs = 0;
  private silenceMs = 0;
  private bargeInSent = false;
  /** When the audio holding the latest speech frame arrived. */
  private lastVoicedAt = 0;
  /** While the VAD model keeps failing, the client hears about it once, not per audio chunk. */
  private failing = false;

  constructor(
    private readonly detector: VoiceActivityDetector,
    private readonly settings: () => ResolvedSettings,
  ) {
    super();
  }

  protected override async process(event: PipelineEvent): Promise<void> {
    this.forward(event);
    if (event.kind !== "audio") return;
    this.stream ??= this.detector.open();
    let frames: VadFrame[];
    try {
      frames = await this.stream.push(event.samples);
    } catch (error) {
      if (!this.failing) this.fail(error, event);
      this.failing = true;
      return;
    }
    this.failing = false;
    for (const frame of frames) this.observe(frame, event.receivedAt);
  }

  private observe(frame: VadFrame, receivedAt: number): void {
    const tuning = this.settings().vad;
    if (frame.probability >= tuning.threshold) {
      this.lastVoicedAt = receivedAt;
      this.onSpeechFrame(frame.durationMs);
    }
    else if (frame.probability < tuning.threshold - HYSTERESIS) this.onSilenceFrame(frame.durationMs);
  }

  private onSpeechFrame(ms: number): void {
    const settings = this.settings();
    this.speechMs += ms;
    this.silenceMs = 0;
    if (!this.speaking && this.speechMs >= settings.vad.minSpeechMs) {
      this.speaking = true;
      this.forward({ kind: "speech_started", at: performance.now() });
    }
    if (this.speaking && !this.bargeInSent && this.speechMs >= bargeInThresholdMs(settings)) {
      this.bargeInSent = true;
      this.forward({ kind: "barge_in", at: performance.now() });
    }
  }

  private onSilenceFrame(ms: number): void {
    if (!this.speaking) {
      // Speech must be continuous to start a turn: a click followed by silence starts nothing.
      this.speechMs = 0;
      return;
    }
    this.silenceMs += ms;
    if (this.silenceMs < this.settings().vad.minSilenceMs) return;
    this.forward({ kind: "speech_stopped", at: performance.now(), speechEndedAt: this.lastVoicedAt });
    this.speaking = false;
    this.speechMs = 0;
    this.silenceMs = 0;
    this.bargeInSent = false;
  }

  override async close(): Promise<void> {
    await this.stream?.close();
  }
}
