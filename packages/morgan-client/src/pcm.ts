/**
 * Reply audio from base64 to float samples, with only what browsers and Bun share (no Buffer). The
 * PCM conversions themselves are the server's own (src/audio/pcm.ts), which are plain
 * typed-array code.
 */
import { pcm16ToFloat32 } from "../../../src/audio/pcm";

/** Decodes base64 16-bit little-endian PCM (as in `response_audio.audio_data`) to float samples. */
export function base64PcmToFloat(base64: string): Float32Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return pcm16ToFloat32(bytes);
}
