/**
 * A streaming windowed-sinc resampler for microphone audio (e.g. 48 kHz → 16 kHz): chunks in, chunks
 * out, with the filter state carried across chunks, so 20 ms pieces give the same samples as one
 * long buffer. Low-passes at the lower rate's Nyquist so downsampling does not alias.
 *
 * Self-contained on purpose (no imports, no outer names): its source is also loaded into the
 * AudioWorklet (see microphone.ts), where the capture runs off the main thread.
 */
export class StreamResampler {
  private readonly step: number;
  private readonly cutoff: number;
  private readonly halfWidth: number;
  private history: Float32Array;
  /** Where the next output sample falls, in samples of `history`. */
  private position: number;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    /** Zero crossings of the sinc on each side: quality against work per sample. */
    zeroCrossings = 8,
  ) {
    if (!(inputRate > 0 && outputRate > 0)) throw new RangeError("sample rates must be positive");
    this.step = inputRate / outputRate;
    // A little below the lower Nyquist, so the window's transition band stays out of the passband edge.
    this.cutoff = Math.min(1, outputRate / inputRate) * 0.92;
    this.halfWidth = Math.ceil(zeroCrossings / this.cutoff);
    this.history = new Float32Array(this.halfWidth);
    this.position = this.halfWidth;
  }

  push(input: Float32Array): Float32Array {
    if (this.inputRate === this.outputRate) return input.slice();
    const buffer = new Float32Array(this.history.length + input.length);
    buffer.set(this.history);
    buffer.set(input, this.history.length);
    const count = Math.max(0, Math.ceil((buffer.length - this.halfWidth - this.position) / this.step));
    const output = new Float32Array(count);
    for (let n = 0; n < count; n++) {
      output[n] = this.sampleAt(buffer, this.position);
      this.position += this.step;
    }
    const keepFrom = Math.max(0, Math.floor(this.position) - this.halfWidth);
    this.history = buffer.slice(keepFrom);
    this.position -= keepFrom;
    return output;
  }

  private sampleAt(buffer: Float32Array, at: number): number {
    const first = Math.floor(at) - this.halfWidth + 1;
    let sum = 0;
    for (let i = Math.max(0, first); i < first + 2 * this.halfWidth && i < buffer.length; i++) {
      const distance = at - i;
      const x = Math.PI * this.cutoff * distance;
      const sinc = x === 0 ? 1 : Math.sin(x) / x;
      const window = 0.5 + 0.5 * Math.cos((Math.PI * distance) / this.halfWidth);
      sum += buffer[i]! * this.cutoff * sinc * window;
    }
    return sum;
  }
}
