/** Options for the turn-taking unit tests: the server defaults, with overrides. */
import type { TurnTakingOptions } from "./options";

type Overrides = { [K in keyof TurnTakingOptions]?: Partial<TurnTakingOptions[K]> };

export function testOptions(overrides: Overrides = {}): TurnTakingOptions {
  return {
    vad: { threshold: 0.5, minSpeechMs: 120, releaseAfterMs: 5000, ...overrides.vad },
    endpointing: { mode: "semantic", eagerness: "auto", silenceMs: 500, minPauseMs: 200, maxWaitMs: 2000, ...overrides.endpointing },
    interruption: {
      minSpeechMs: 300,
      minWords: 0,
      echoCancellation: true,
      minSpeechMsWithoutEchoCancellation: 600,
      resumeFalseInterruption: true,
      falseInterruptionTimeoutMs: 1500,
      ...overrides.interruption,
    },
  };
}
