/** A session's settings with every default filled in, and how a client's patch applies to them. */
import type { SessionSettings } from "../protocol/messages";
import type { TurnTakingOptions } from "./turn-taking/options";

export interface ResolvedSettings {
  language: string;
  voice: string;
  speed: number;
  inputSampleRate: number;
  outputSampleRate: number;
  /** Voice activity, endpointing and interruption: the turn-taking module's one options object. */
  turnTaking: TurnTakingOptions;
  systemPrompt: string;
  maxResponseTokens: number;
  temperature: number;
  /** Server configuration only (not a client setting). */
  repetitionPenalty: number;
  seed?: number;
}

export function applySettings(current: ResolvedSettings, patch: SessionSettings): ResolvedSettings {
  const { vad, endpointing, interruption } = current.turnTaking;
  return {
    language: patch.language ?? current.language,
    voice: patch.voice ?? current.voice,
    speed: patch.speed ?? current.speed,
    inputSampleRate: patch.input_sample_rate ?? current.inputSampleRate,
    outputSampleRate: patch.output_sample_rate ?? current.outputSampleRate,
    turnTaking: {
      vad: {
        threshold: patch.vad?.threshold ?? vad.threshold,
        minSpeechMs: patch.vad?.min_speech_ms ?? vad.minSpeechMs,
        releaseAfterMs: vad.releaseAfterMs,
      },
      endpointing: {
        mode: patch.turn_detection?.mode ?? endpointing.mode,
        eagerness: patch.turn_detection?.eagerness ?? endpointing.eagerness,
        silenceMs: patch.vad?.min_silence_ms ?? endpointing.silenceMs,
        minPauseMs: patch.turn_detection?.min_endpointing_ms ?? endpointing.minPauseMs,
        maxWaitMs: patch.turn_detection?.max_endpointing_ms ?? endpointing.maxWaitMs,
      },
      interruption: {
        minSpeechMs: patch.vad?.barge_in_min_speech_ms ?? interruption.minSpeechMs,
        minWords: patch.interruption?.min_words ?? interruption.minWords,
        echoCancellation: patch.echo_cancellation ?? interruption.echoCancellation,
        minSpeechMsWithoutEchoCancellation: interruption.minSpeechMsWithoutEchoCancellation,
        resumeFalseInterruption: patch.interruption?.resume_false_interruption ?? interruption.resumeFalseInterruption,
        falseInterruptionTimeoutMs: patch.interruption?.false_interruption_timeout_ms ?? interruption.falseInterruptionTimeoutMs,
      },
    },
    systemPrompt: patch.system_prompt ?? current.systemPrompt,
    maxResponseTokens: patch.max_response_tokens ?? current.maxResponseTokens,
    temperature: patch.temperature ?? current.temperature,
    repetitionPenalty: current.repetitionPenalty,
    seed: patch.seed ?? current.seed,
  };
}
