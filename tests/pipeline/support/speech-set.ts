/**
 * The speech recognition test set: everyday requests to a voice assistant, spoken by two different
 * synthesisers. Piper speaks all twenty, espeak-ng (flat formant speech Whisper was never tuned on)
 * the first ten. The word error rate test and the STT benchmark (bench/) both use it.
 */
import type { TestVoice } from "./speech";

export const SPEECH_SENTENCES = [
  "turn off the lights in the kitchen",
  "what is the weather like tomorrow",
  "set a timer for ten minutes",
  "what is the capital of france",
  "play some relaxing music in the living room",
  "remind me to call my mother this evening",
  "how many minutes are in two hours",
  "add milk and eggs to my shopping list",
  "what time does the pharmacy close today",
  "tell me a joke about penguins",
  "how far is the moon from the earth",
  "turn the heating up a little",
  "what should i cook for dinner tonight",
  "read me the latest news headlines",
  "who wrote the book pride and prejudice",
  "is it going to rain this afternoon",
  "wake me up at seven tomorrow morning",
  "how do you say thank you in spanish",
  "lock the front door please",
  "what is the boiling point of water",
] as const;

export const SPEECH_SET: readonly { text: string; voice: TestVoice }[] = [
  ...SPEECH_SENTENCES.map((text) => ({ text, voice: "piper" as const })),
  ...SPEECH_SENTENCES.slice(0, 10).map((text) => ({ text, voice: "espeak" as const })),
];
