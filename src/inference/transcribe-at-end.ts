/**
 * Speech to text without real-time processing (streaming.realTimeProcessing false, the seed's
 * MORGAN_REAL_TIME_PROCESSING): an utterance's audio is collected while the user speaks and
 * transcribed in one request when it ends. No partial transcripts and no STT work during speech, at
 * the price of the whole transcription after it (a batch-friendly mode for a busy STT model).
 */
import { concatSamples } from "../audio/pcm";
import type { SpeechToText, SttStream } from "./types";

export function transcribeAtEnd(stt: SpeechToText): SpeechToText {
  return {
    open(options): SttStream {
      let audio: Float32Array[] = [];
      let done = false;
      return {
        push(samples) {
          if (!done) audio.push(samples);
        },
        async finish(signal) {
          if (done) throw new Error("STT stream already finished");
          done = true;
          const utterance = stt.open({ language: options.language, onPartial: () => {} });
          if (audio.length > 0) utterance.push(concatSamples(audio));
          audio = [];
          return utterance.finish(signal);
        },
        abort() {
          done = true;
          audio = [];
        },
      };
    },
  };
}
