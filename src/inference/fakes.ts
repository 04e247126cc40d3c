/**
 * Fakes of the five model interfaces, for unit tests that run without Triton. They follow one audio
 * convention: silence is 0, a "word" is 250 ms at amplitude 0.5, and a non-word sound (a cough, a
 * "mm") is quieter (0.2): the fake VAD hears both as speech, the fake STT only the words.
 */
import type {
  AudioChunk,
  GenerationRequest,
  LanguageModel,
  SpeechToText,
  SttStream,
  SynthesisRequest,
  TextToSpeech,
  Transcript,
  TurnDetector,
  VadFrame,
  VadStream,
  VoiceActivityDetector,
} from "./types";

export const FAKE_RATE = 16000;
const FRAME = 512;
const WORD_SAMPLES = FAKE_RATE / 4;

/** Test audio in the fakes' convention. */
export const fakeAudio = {
  silence: (ms: number) => new Float32Array(Math.round((ms / 1000) * FAKE_RATE)),
  words: (count: number) => new Float32Array(count * WORD_SAMPLES).fill(0.5),
  noise: (ms: number) => new Float32Array(Math.round((ms / 1000) * FAKE_RATE)).fill(0.2),
};

/** Speech probability from loudness, per 512-sample frame; leftovers carry over like Silero's. */
export class FakeVad implements VoiceActivityDetector {
  opened = 0;
  failing = false;

  open(): VadStream {
    this.opened += 1;
    let leftover = new Float32Array(0);
    return {
      push: async (samples) => {
        if (this.failing) throw new Error("fake VAD is down");
        const all = new Float32Array(leftover.length + samples.length);
        all.set(leftover);
        all.set(samples, leftover.length);
        const frames: VadFrame[] = [];
        let offset = 0;
        for (; offset + FRAME <= all.length; offset += FRAME) {
          const loud = Math.max(...all.subarray(offset, offset + FRAME).map(Math.abs)) >= 0.1;
          frames.push({ probability: loud ? 0.95 : 0.02, durationMs: (FRAME / FAKE_RATE) * 1000 });
        }
        leftover = all.slice(offset);
        return frames;
      },
      close: async () => {},
    };
  }
}

/** Transcribes the fakes' words as "word1 word2 …", with a partial whenever a word is complete. */
export class FakeStt implements SpeechToText {
  readonly finals: string[] = [];
  opened = 0;
  aborted = 0;
  /** Milliseconds a final takes. */
  finalDelayMs = 1;

  open(options: { language: string; onPartial: (t: Transcript) => void }): SttStream {
    this.opened += 1;
    let loudRun = 0;
    let words = 0;
    let done = false;
    const text = () => Array.from({ length: words }, (_, i) => `word${i + 1}`).join(" ");
    return {
      push: (samples) => {
        for (const sample of samples) {
          loudRun = Math.abs(sample) >= 0.4 ? loudRun + 1 : 0;
          if (loudRun > 0 && loudRun % WORD_SAMPLES === 0) words += 1;
        }
        if (words > 0 && !done) {
          const partial = text();
          queueMicrotask(() => !done && options.onPartial({ text: partial, isFinal: false, confidence: 0 }));
        }
      },
      finish: async () => {
        done = true;
        await Bun.sleep(this.finalDelayMs);
        this.finals.push(text());
        return { text: text(), isFinal: true, confidence: words > 0 ? 0.9 : 0 };
      },
      abort: () => {
        done = true;
        this.aborted += 1;
      },
    };
  }
}

/**
 * Answers with `probability` from audio, after `delayMs`; from words, with `textProbability(words)`
 * (a number, null for "no text check here", or an Error to fail with).
 */
export class FakeTurnDetector implements TurnDetector {
  probability = 0.9;
  textProbability: (transcript: string) => number | null | Error = () => 0.5;
  delayMs = 5;
  calls = 0;
  readonly transcripts: string[] = [];

  async predict(_audio: Float32Array, signal?: AbortSignal): Promise<number> {
    this.calls += 1;
    await Bun.sleep(this.delayMs);
    signal?.throwIfAborted();
    return this.probability;
  }

  async predictText(transcript: string, signal?: AbortSignal): Promise<number | null> {
    this.transcripts.push(transcript);
    await Bun.sleep(this.delayMs);
    signal?.throwIfAborted();
    const answer = this.textProbability(transcript);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

/** Streams `reply` word by word, `tokenDelayMs` apart, and stops when aborted. */
export class FakeLlm implements LanguageModel {
  reply = "Hello there. This is the second sentence of a fake reply.";
  tokenDelayMs = 2;
  readonly requests: GenerationRequest[] = [];

  async *stream(request: GenerationRequest, signal?: AbortSignal): AsyncIterable<string> {
    this.requests.push(request);
    for (const word of this.reply.split(/(?<= )/)) {
      await Bun.sleep(this.tokenDelayMs);
      signal?.throwIfAborted();
      yield word;
    }
  }
}

/** One chunk per request: `msPerWord` of audio per word, at 16 kHz. */
export class FakeTts implements TextToSpeech {
  msPerWord = 100;
  readonly texts: string[] = [];

  async *synthesize(request: SynthesisRequest, signal?: AbortSignal): AsyncIterable<AudioChunk> {
    this.texts.push(request.text);
    await Bun.sleep(1);
    signal?.throwIfAborted();
    const words = request.text.split(/\s+/).length;
    yield { samples: new Float32Array(Math.round((words * this.msPerWord * FAKE_RATE) / 1000)).fill(0.1), sampleRate: FAKE_RATE };
  }

  async voices(): Promise<string[]> {
    return ["fake"];
  }
}
