/** A stand-in AudioOutput with a clock the test moves: what Web Audio would play, and when. */
import type { AudioOutput, PlayingSound } from "../playback";

export interface FakeSound {
  samples: number;
  sampleRate: number;
  when: number;
  stoppedAt?: number;
}

export class FakeOutput implements AudioOutput {
  currentTime = 0;
  readonly sounds: FakeSound[] = [];

  play(samples: Float32Array, sampleRate: number, when: number): PlayingSound {
    const sound: FakeSound = { samples: samples.length, sampleRate, when };
    this.sounds.push(sound);
    return { stop: () => void (sound.stoppedAt ??= this.currentTime) };
  }

  advance(ms: number): void {
    this.currentTime += ms / 1000;
  }
}
