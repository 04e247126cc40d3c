/**
 * PCM conversions at the edge of the pipeline: clients speak 16-bit little-endian PCM at a
 * negotiated rate, the models take and give float32 samples at their own rate.
 */

/** Decodes 16-bit little-endian PCM into float samples in [-1, 1). Throws on an odd byte count. */
export function pcm16ToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError(`16-bit PCM needs an even number of bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

/** Encodes float samples as 16-bit little-endian PCM, clipping to the representable range. */
export function float32ToPcm16(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    view.setInt16(i * 2, s < 0 ? Math.round(s * 32768) : Math.round(s * 32767), true);
  }
  return out;
}

/**
 * Linear-interpolation resampler. Good enough for speech between 8 and 48 kHz, where the models
 * care about intelligibility, not fidelity; it keeps no state, so callers resample whole chunks.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate || samples.length === 0) return samples;
  const outLength = Math.max(1, Math.round((samples.length * toRate) / fromRate));
  const out = new Float32Array(outLength);
  const step = fromRate / toRate;
  for (let i = 0; i < outLength; i++) {
    const position = i * step;
    const left = Math.floor(position);
    const right = Math.min(left + 1, samples.length - 1);
    const fraction = position - left;
    out[i] = samples[left]! * (1 - fraction) + samples[right]! * fraction;
  }
  return out;
}

export function durationMs(sampleCount: number, sampleRate: number): number {
  return (sampleCount / sampleRate) * 1000;
}

/** Concatenates float chunks into one buffer. */
export function concatSamples(chunks: readonly Float32Array[]): Float32Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A RIFF/WAVE file of 16-bit mono PCM, for HTTP responses. */
export function encodeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const pcm = float32ToPcm16(samples);
  const out = new Uint8Array(44 + pcm.byteLength);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + pcm.byteLength, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, pcm.byteLength, true);
  out.set(pcm, 44);
  return out;
}

export interface DecodedWav {
  samples: Float32Array;
  sampleRate: number;
}

/** Reads a 16-bit PCM WAV (mono, or stereo mixed down). Throws a message naming what is wrong. */
export function decodeWav(bytes: Uint8Array): DecodedWav {
  const text = (offset: number, length: number) =>
    String.fromCharCode(...bytes.subarray(offset, offset + length));
  if (bytes.byteLength < 44 || text(0, 4) !== "RIFF" || text(8, 4) !== "WAVE") {
    throw new RangeError("not a RIFF/WAVE file");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  let format: { channels: number; sampleRate: number; bits: number; codec: number } | undefined;
  while (offset + 8 <= bytes.byteLength) {
    const id = text(offset, 4);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      format = {
        codec: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!format) throw new RangeError("WAV data chunk before its fmt chunk");
      if (format.codec !== 1 || format.bits !== 16) {
        throw new RangeError(`WAV must be 16-bit PCM, got codec ${format.codec} with ${format.bits} bits`);
      }
      if (format.channels < 1 || format.channels > 2) {
        throw new RangeError(`WAV must be mono or stereo, got ${format.channels} channels`);
      }
      const end = Math.min(body + size, bytes.byteLength);
      const interleaved = pcm16ToFloat32(bytes.subarray(body, end - ((end - body) % (2 * format.channels))));
      return { samples: mixDown(interleaved, format.channels), sampleRate: format.sampleRate };
    }
    offset = body + size + (size % 2);
  }
  throw new RangeError("WAV has no data chunk");
}

function mixDown(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved;
  const out = new Float32Array(interleaved.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = (interleaved[i * 2]! + interleaved[i * 2 + 1]!) / 2;
  return out;
}
