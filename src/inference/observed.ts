/**
 * Reports every call of the four model interfaces to the observer seam: the model, the outcome (ok,
 * error, or cancelled by the caller) and the duration, and for streams the time to the first result
 * (an LLM's first token, a synthesis's first audio). A decorator, so the adapters (Triton's or any
 * other) know nothing of telemetry.
 *
 * What counts as a call: a VAD `push`; an STT utterance's `finish` (the request that returns the final
 * transcript; the chunk requests before it are the adapter's business); an end-of-turn `predict` or `predictText`; an
 * LLM `stream`; a TTS `synthesize`.
 */
import type { CallOutcome, ModelRole, Observers } from "../telemetry/events";
import type { AudioChunk, ModelNames, Models, SttStream, VadStream } from "./types";

export function observedModels(models: Models, names: ModelNames, observers: Observers): Models {
  const report = (role: ModelRole) => (outcome: CallOutcome, durationMs: number, firstResultMs?: number) =>
    observers.observe({ type: "model_call", role, model: names[role], outcome, durationMs, firstResultMs });
  const vad = report("vad");
  const stt = report("stt");
  const turn = report("turn");
  const llm = report("llm");
  const tts = report("tts");
  return {
    vad: {
      open(): VadStream {
        const stream = models.vad.open();
        return {
          push: (samples, signal) => timed(stream.push(samples, signal), signal, vad),
          close: () => stream.close(),
        };
      },
    },
    stt: {
      open(options): SttStream {
        const stream = models.stt.open(options);
        return {
          push: (samples) => stream.push(samples),
          finish: (signal) => timed(stream.finish(signal), signal, stt),
          abort: () => stream.abort(),
        };
      },
    },
    turn: {
      predict: (audio, signal) => timed(models.turn.predict(audio, signal), signal, turn),
      predictText: (transcript, signal) => timed(models.turn.predictText(transcript, signal), signal, turn),
    },
    llm: { stream: (request, signal) => timedStream(models.llm.stream(request, signal), signal, llm) },
    tts: {
      synthesize: (request, signal): AsyncIterable<AudioChunk> => timedStream(models.tts.synthesize(request, signal), signal, tts),
      voices: () => models.tts.voices(),
    },
  };
}

type Report = (outcome: CallOutcome, durationMs: number, firstResultMs?: number) => void;

async function timed<T>(call: Promise<T>, signal: AbortSignal | undefined, report: Report): Promise<T> {
  const started = performance.now();
  try {
    const result = await call;
    report(outcomeOf(signal, true), performance.now() - started);
    return result;
  } catch (error) {
    report(outcomeOf(signal, false), performance.now() - started);
    throw error;
  }
}

/** Passes a stream through, timing its first item and its whole life (a consumer that stops early ends it). */
async function* timedStream<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined, report: Report): AsyncIterable<T> {
  const started = performance.now();
  let firstResultMs: number | undefined;
  let failed = false;
  try {
    for await (const item of source) {
      firstResultMs ??= performance.now() - started;
      yield item;
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Also reached when the consumer stops early (a cancelled turn): that is no failure of the model.
    report(outcomeOf(signal, !failed), performance.now() - started, firstResultMs);
  }
}

function outcomeOf(signal: AbortSignal | undefined, succeeded: boolean): CallOutcome {
  if (signal?.aborted) return "cancelled";
  return succeeded ? "ok" : "error";
}
