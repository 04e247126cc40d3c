/**
 * Band-limited sample-rate conversion for speech that leaves Morgan (Piper speaks at 22,050 Hz; a
 * session plays at its own output rate): libsamplerate's sinc converter, compiled to WebAssembly.
 * A linear interpolator (pcm.ts `resample`) would fold Piper's 8-11 kHz energy back into the band
 * when it goes down to 16 kHz, which is audible as hiss on sibilants.
 *
 * Each call converts one whole piece of speech (a synthesised sentence) with the converter's state
 * reset, so calls are independent; one converter per rate pair is created on first use and reused.
 */
import { ConverterType, create } from "@alexanderolsen/libsamplerate-js";

type Converter = Awaited<ReturnType<typeof create>>;
const converters = new Map<string, Promise<Converter>>();

function converter(fromRate: number, toRate: number): Promise<Converter> {
  const key = `${fromRate}->${toRate}`;
  let found = converters.get(key);
  if (!found) {
    found = create(1, fromRate, toRate, { converterType: ConverterType.SRC_SINC_FASTEST });
    converters.set(key, found);
    found.catch(() => converters.delete(key));
  }
  return found;
}

export async function resampleSpeech(samples: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate || samples.length === 0) return samples;
  return (await converter(fromRate, toRate)).simple(samples);
}
