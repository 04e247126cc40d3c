/** The browser's side of playback: AudioOutput over a Web Audio AudioContext. */
import type { AudioOutput, PlayingSound } from "./playback";

export class WebAudioOutput implements AudioOutput {
  constructor(readonly context: AudioContext) {}

  get currentTime(): number {
    return this.context.currentTime;
  }

  play(samples: Float32Array, sampleRate: number, when: number): PlayingSound {
    // The buffer keeps the reply's own rate; the context resamples to the device's.
    const buffer = this.context.createBuffer(1, samples.length, sampleRate);
    buffer.copyToChannel(samples as Float32Array<ArrayBuffer>, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    source.start(when);
    return {
      stop: () => {
        try {
          source.stop();
        } catch {
          // Already stopped.
        }
        source.disconnect();
      },
    };
  }
}
