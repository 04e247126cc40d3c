/** A session's settings with every default filled in, and how a client's patch applies to them. */
import type { SessionSettings } from "../protocol/messages";

export interface VadTuning {
  threshold: number;
  minSilenceMs: number;
  minSpeechMs: number;
  bargeInMinSpeechMs: number;
}

export interface ResolvedSettings {
  language: string;
  voice: string;
  speed: number;
  inputSampleRate: number;
  outputSampleRate: number;
  vad: VadTuning;
  systemPrompt: string;
  echoCancellation: boolean;
  maxResponseTokens: number;
  temperature: number;
  /** Server configuration only (not a client setting). */
  repetitionPenalty: number;
  seed?: number;
}

/**
 * Barge-in needs longer speech when the client has no echo cancellation, since Morgan's own voice
 * coming back through the microphone would otherwise interrupt it.
 */
export function bargeInThresholdMs(settings: ResolvedSettings): number {
  const minimum = settings.echoCancellation ? 0 : 600;
  return Math.max(settings.vad.bargeInMinSpeechMs, minimum);
}

export function applySettings(current: ResolvedSettings, patch: SessionSettings): ResolvedSettings {
  return {
    language: patch.language ?? current.language,
    voice: patch.voice ?? current.voice,
    speed: patch.speed ?? current.speed,
    inputSampleRate: patch.input_sample_rate ?? current.inputSampleRate,
    outputSampleRate: patch.output_sample_rate ?? current.outputSampleRate,
    vad: {
      threshold: patch.vad?.threshold ?? current.vad.threshold,
      minSilenceMs: patch.vad?.min_silence_ms ?? current.vad.minSilenceMs,
      minSpeechMs: patch.vad?.min_speech_ms ?? current.vad.minSpeechMs,
      bargeInMinSpeechMs: patch.vad?.barge_in_min_speech_ms ?? current.vad.bargeInMinSpeechMs,
    },
    systemPrompt: patch.system_prompt ?? current.systemPrompt,
    echoCancellation: patch.echo_cancellation ?? current.echoCancellation,
    maxResponseTokens: patch.max_response_tokens ?? current.maxResponseTokens,
    temperature: patch.temperature ?? current.temperature,
    repetitionPenalty: current.repetitionPenalty,
    seed: patch.seed ?? current.seed,
  };
}
