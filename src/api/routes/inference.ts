/**
 * Direct model endpoints beside the voice pipeline: LLM generation (JSON and Server-Sent Events),
 * TTS (WAV and SSE of audio chunks) and STT of an uploaded WAV. The seed's service paths stay as
 * aliases: /generate and /stream (LLM), /generate/stream (TTS).
 *
 * A client that disconnects aborts its request, which cancels the work at Triton. Uploads are bounded
 * by server.bodyLimitBytes (1 MiB by default: about 32 s of 16 kHz 16-bit mono WAV).
 */
import type { Logger } from "pino";
import { publicReason } from "../../inference/public-reason";
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { LanguageModel, SpeechToText, TextToSpeech } from "../../inference/types";
import type { ChatTemplate } from "../../pipeline/text/chat-template";
import { concatSamples, decodeWav, encodeWav, float32ToPcm16, resample } from "../../audio/pcm";
import { resampleSpeech } from "../../audio/resampler";
import { LIMITS, SUPPORTED_SAMPLE_RATES } from "../../protocol/messages";
import { RequestValidationError } from "../middleware/errors.ts";
import { parseInput } from "../middleware/validate.ts";

export interface InferenceRouteDeps {
  llm: LanguageModel;
  tts: TextToSpeech;
  stt: SpeechToText;
  defaults: { voice: string; speed: number; maxTokens: number; temperature: number; repetitionPenalty: number; language: string };
  /** Formats `prompt`/`messages` for the instruct model (unless the request asks for `raw`). */
  chatTemplate: ChatTemplate;
  /** Seconds between SSE keep-alive comments while a stream is idle (Bun closes idle streams). */
  heartbeatS?: number;
  /** Where a failed model request's details go (the client gets only its kind). */
  log: Logger;
}

const STT_RATE = 16000;

const ChatMessageBody = z
  .object({ role: z.enum(["system", "user", "assistant"]), content: z.string().min(1).max(32_000) })
  .strict();

export const GenerateBody = z
  .object({
    /** A user message, formatted with the model's chat template (or sent as is with `raw`). */
    prompt: z.string().trim().min(1).max(32_000).optional(),
    /** A whole conversation instead of `prompt`; the model writes the next assistant message. */
    messages: z.array(ChatMessageBody).min(1).max(200).optional(),
    /** Send `prompt` to the model verbatim, as a plain completion (no chat template). */
    raw: z.boolean().optional(),
    max_tokens: z.number().int().min(1).max(4096).optional(),
    temperature: z.number().min(0).max(2).optional(),
    repetition_penalty: z.number().min(1).max(2).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    stop: z.array(z.string().min(1).max(64)).max(8).optional(),
  })
  .strict()
  .refine((body) => (body.prompt === undefined) !== (body.messages === undefined), {
    message: "give either prompt or messages",
    path: ["prompt"],
  })
  .refine((body) => !body.raw || body.prompt !== undefined, { message: "raw needs a prompt", path: ["raw"] });

export const SpeakBody = z
  .object({
    text: z.string().trim().min(1).max(LIMITS.maxTextChars),
    voice: z.string().min(1).max(64).optional(),
    speed: z.number().min(0.5).max(2).optional(),
    sample_rate: z
      .number()
      .int()
      .refine((r) => (SUPPORTED_SAMPLE_RATES as readonly number[]).includes(r), "unsupported sample rate")
      .optional(),
  })
  .strict();

/** Reads and validates a JSON body; problems become a 400 naming the field (global error handler). */
async function readJson<Schema extends z.ZodType>(request: Request, schema: Schema): Promise<z.output<Schema>> {
  const json = await request.json().catch(() => {
    throw new RequestValidationError([{ field: "(body)", problem: "body is not valid JSON" }]);
  });
  return parseInput(schema, json);
}

/** A failed model request: its kind for the client, its details for the server log. */
function upstreamError(log: Logger, error: unknown): Response {
  log.error({ err: error }, "model request failed");
  return Response.json({ error: "inference_failed", message: publicReason(error) }, { status: 502 });
}

export function inferenceRoutes(deps: InferenceRouteDeps): Hono {
  const app = new Hono();
  const heartbeatMs = (deps.heartbeatS ?? 5) * 1000;

  const generationRequest = (body: z.infer<typeof GenerateBody>) => {
    const template = deps.chatTemplate;
    const templated = !body.raw;
    return {
      prompt: templated ? template.format(body.messages ?? [{ role: "user", content: body.prompt! }]) : body.prompt!,
      maxTokens: body.max_tokens ?? deps.defaults.maxTokens,
      temperature: body.temperature ?? deps.defaults.temperature,
      repetitionPenalty: body.repetition_penalty ?? deps.defaults.repetitionPenalty,
      seed: body.seed,
      stop: [...(templated ? template.stop : []), ...(body.stop ?? [])],
    };
  };

  const generate = async (request: Request) => {
    const body = await readJson(request, GenerateBody);
    const started = performance.now();
    let text = "";
    let tokens = 0;
    try {
      for await (const delta of deps.llm.stream(generationRequest(body), request.signal)) {
        text += delta;
        tokens += 1;
      }
    } catch (error) {
      return upstreamError(deps.log, error);
    }
    return Response.json({ text, usage: { completion_tokens: tokens }, latency_ms: Math.round(performance.now() - started) });
  };

  /**
   * Streams SSE events from `produce`: a disconnecting client aborts its signal (cancelling the
   * Triton request), a comment keeps an idle stream open, and a failure ends with an `error` event.
   */
  const sse = (c: Context, produce: (send: (event: string, data: unknown) => Promise<void>, signal: AbortSignal) => Promise<void>) => {
    const abort = new AbortController();
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => abort.abort(new Error("client disconnected")));
      const heartbeat = setInterval(() => void stream.write(": keep-alive\n\n"), heartbeatMs);
      const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
      try {
        await produce(send, abort.signal);
      } catch (error) {
        if (!abort.signal.aborted) {
          deps.log.error({ err: error }, "model stream failed");
          await send("error", { message: publicReason(error) });
        }
      } finally {
        clearInterval(heartbeat);
      }
    });
  };

  const streamText = async (c: Context) => {
    const body = await readJson(c.req.raw, GenerateBody);
    return sse(c, async (send, signal) => {
      const started = performance.now();
      let firstTokenMs: number | undefined;
      let text = "";
      let tokens = 0;
      for await (const delta of deps.llm.stream(generationRequest(body), signal)) {
        firstTokenMs ??= performance.now() - started;
        text += delta;
        tokens += 1;
        await send("delta", { text: delta });
      }
      const usage = { completion_tokens: tokens };
      const latency = { first_token_ms: round(firstTokenMs), total_ms: round(performance.now() - started) };
      await send("done", { text, usage, latency });
    });
  };

  /** The synthesis a body asks for, with an unknown voice refused as the client's mistake (400). */
  const speakRequest = async (body: z.infer<typeof SpeakBody>) => {
    const voice = body.voice ?? deps.defaults.voice;
    // When Triton cannot say which voices exist, the TTS model names the problem itself.
    const installed = await deps.tts.voices().catch(() => undefined);
    if (installed && !installed.includes(voice)) {
      throw new RequestValidationError([{ field: "voice", problem: `unknown voice "${voice}"; installed voices: ${installed.join(", ")}` }]);
    }
    return { text: body.text, voice, speed: body.speed ?? deps.defaults.speed };
  };

  const speakWav = async (request: Request) => {
    const body = await readJson(request, SpeakBody);
    const sampleRate = body.sample_rate;
    const speech = await speakRequest(body);
    const chunks: Float32Array[] = [];
    let rate = 0;
    try {
      for await (const chunk of deps.tts.synthesize(speech, request.signal)) {
        chunks.push(chunk.samples);
        rate = chunk.sampleRate;
      }
    } catch (error) {
      return upstreamError(deps.log, error);
    }
    const outRate = sampleRate ?? rate;
    const wav = encodeWav(await resampleSpeech(concatSamples(chunks), rate, outRate), outRate);
    return new Response(wav, { headers: { "content-type": "audio/wav" } });
  };

  const speakStream = async (c: Context) => {
    const body = await readJson(c.req.raw, SpeakBody);
    const speech = await speakRequest(body);
    return sse(c, async (send, signal) => {
      let index = 0;
      for await (const chunk of deps.tts.synthesize(speech, signal)) {
        const rate = body.sample_rate ?? chunk.sampleRate;
        const pcm = float32ToPcm16(await resampleSpeech(chunk.samples, chunk.sampleRate, rate));
        await send("audio", { index: index++, audio_data: Buffer.from(pcm).toString("base64"), sample_rate: rate, format: "pcm_s16le" });
      }
      await send("done", { chunks: index });
    });
  };

  const transcribe = async (request: Request) => {
    const wav = await readUpload(request);
    let decoded;
    try {
      decoded = decodeWav(wav);
    } catch (error) {
      throw new RequestValidationError([{ field: "audio", problem: errorText(error) }]);
    }
    if (decoded.samples.length === 0) throw new RequestValidationError([{ field: "audio", problem: "the WAV holds no samples" }]);
    const samples = resample(decoded.samples, decoded.sampleRate, STT_RATE);
    try {
      const stream = deps.stt.open({ language: deps.defaults.language, onPartial: () => {} });
      for (let i = 0; i < samples.length; i += STT_RATE / 5) stream.push(samples.subarray(i, i + STT_RATE / 5));
      const transcript = await stream.finish(request.signal);
      return Response.json({
        text: transcript.text,
        confidence: transcript.confidence,
        duration_ms: Math.round((samples.length / STT_RATE) * 1000),
      });
    } catch (error) {
      return upstreamError(deps.log, error);
    }
  };

  app.post("/v1/llm/generate", (c) => generate(c.req.raw));
  app.post("/v1/llm/stream", streamText);
  app.post("/v1/tts/generate", (c) => speakWav(c.req.raw));
  app.post("/v1/tts/generate/stream", speakStream);
  app.post("/v1/stt/transcribe", (c) => transcribe(c.req.raw));
  // The seed's paths.
  app.post("/generate", (c) => generate(c.req.raw));
  app.post("/stream", streamText);
  app.post("/generate/stream", speakStream);
  return app;
}

/** Accepts a raw audio/wav body or a multipart form with a `file` field. */
async function readUpload(request: Request): Promise<Uint8Array> {
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) {
    const form = await request.formData().catch(() => undefined);
    const file = form?.get("file");
    if (!(file instanceof Blob)) throw new RequestValidationError([{ field: "file", problem: "expected a WAV file in the multipart field 'file'" }]);
    return new Uint8Array(await file.arrayBuffer());
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength === 0) throw new RequestValidationError([{ field: "(body)", problem: "expected a WAV file (audio/wav) or a multipart upload" }]);
  return bytes;
}

function round(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 10) / 10;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
