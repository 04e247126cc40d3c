/**
 * Gateway-overhead jobs: the same streamed request sent straight to Triton with Morgan's own
 * adapters (src/inference/triton over @triton-client) or through Morgan (WebSocket text turn, SSE TTS
 * endpoint). Every variant times request → first piece and the gaps between pieces on the client.
 */
import { modelServers } from "../../../src/inference/triton/index";
import { TritonLanguageModel } from "../../../src/inference/triton/llm";
import { TritonTextToSpeech } from "../../../src/inference/triton/tts";
import { chatTemplate } from "../../../src/pipeline/text/chat-template";
import type { Job, LlmRequestSpec, StreamJobBase, StreamResult, StreamSample } from "../protocol";
import { LoadSocket } from "../ws";

/** Collects piece arrival times into a sample. */
class PieceClock {
  private readonly sentAt = performance.now();
  private readonly arrivals: number[] = [];

  piece(at = performance.now()): void {
    this.arrivals.push(at);
  }

  sample(): StreamSample {
    const first = this.arrivals[0];
    if (first === undefined) throw new Error("the stream produced nothing");
    const gapsMs: number[] = [];
    for (let i = 1; i < this.arrivals.length; i++) gapsMs.push(this.arrivals[i]! - this.arrivals[i - 1]!);
    return { firstMs: first - this.sentAt, gapsMs, totalMs: this.arrivals.at(-1)! - this.sentAt, pieces: this.arrivals.length };
  }
}

/**
 * A request in two steps: `prepare` (WebSocket: connect and start a session) is not timed, then the
 * returned `fire` sends the request and times it. Requests run in rounds of `streams` at once, all
 * fired together after every stream has prepared, so both paths see the same arrival pattern.
 */
type PreparedRequest = { fire: () => Promise<StreamSample>; cleanup?: () => Promise<void> };

async function runStreams(job: StreamJobBase, prepare: () => Promise<PreparedRequest>): Promise<StreamResult> {
  const started = performance.now();
  const deadline = started + job.deadlineS * 1000;
  const samples: StreamSample[] = [];
  const errors: string[] = [];
  const note = (error: unknown) => errors.push(error instanceof Error ? error.message : String(error));
  for (let round = 0; round < job.requestsPerStream && performance.now() < deadline; round++) {
    const prepared = await Promise.all(Array.from({ length: job.streams }, () => prepare().catch((error) => (note(error), undefined))));
    await Promise.all(
      prepared.map(async (request) => {
        if (!request) return;
        try {
          samples.push(await request.fire());
        } catch (error) {
          note(error);
        }
      }),
    );
    // Clean-up (ending sessions) only once the whole round is done, so it never competes with the
    // requests still being timed.
    await Promise.all(prepared.map((request) => request?.cleanup?.().catch(note)));
  }
  return { samples, errors: errors.slice(0, 20), wallS: (performance.now() - started) / 1000 };
}

/** Exactly the prompt and sampling Morgan builds for a text turn in a fresh conversation. */
export function morganGenerationRequest(spec: LlmRequestSpec) {
  // The same prompt a Morgan with the default (ChatML) template sends for a first turn.
  const template = chatTemplate("chatml");
  const messages = [{ role: "system" as const, content: spec.systemPrompt }, { role: "user" as const, content: spec.userText }];
  return { prompt: template.format(messages), maxTokens: spec.maxTokens, temperature: spec.temperature, stop: [...template.stop] };
}

/** The session settings that make Morgan send that same request. */
export function sessionSettingsFor(spec: LlmRequestSpec) {
  return { system_prompt: spec.systemPrompt, max_response_tokens: spec.maxTokens, temperature: spec.temperature };
}

/** One Triton, not probed: every request goes to it, as with a plain client. */
const DIRECT = { healthIntervalMs: 1000, healthTimeoutMs: 1000 };

export async function llmDirect(job: Extract<Job, { kind: "llm-direct" }>): Promise<StreamResult> {
  const client = modelServers([job.tritonUrl], DIRECT);
  const llm = new TritonLanguageModel(client, { model: job.model, requestTimeoutMs: 60_000 });
  const request = morganGenerationRequest(job.request);
  try {
    return await runStreams(job, async () => ({
      fire: async () => {
        const clock = new PieceClock();
        for await (const _delta of llm.stream(request)) clock.piece();
        return clock.sample();
      },
    }));
  } finally {
    client.close();
  }
}

export async function llmWebSocket(job: Extract<Job, { kind: "llm-ws" }>): Promise<StreamResult> {
  const settings = sessionSettingsFor(job.request);
  return runStreams(job, async () => {
    // A fresh session per request keeps the conversation context empty, so the prompt matches the direct one.
    const socket = await LoadSocket.connect(`${job.wsUrl}/ws/stream`);
    try {
      await socket.start(settings);
    } catch (error) {
      socket.close();
      throw error;
    }
    return {
      fire: async () => {
        const done = socket.waitFor((m) => m.type === "response_text" && m.data.is_final === true, 60_000);
        const clock = new PieceClock();
        socket.onMessage(({ at, message }) => {
          if (message.type === "response_text" && message.data.is_final === false) clock.piece(at);
        });
        socket.send({ type: "text", data: { text: job.request.userText } });
        await done;
        return clock.sample();
      },
      // stop ends the session, interrupting the reply's audio that is still being paced out.
      cleanup: () => socket.stop(),
    };
  });
}

export async function ttsDirect(job: Extract<Job, { kind: "tts-direct" }>): Promise<StreamResult> {
  const client = modelServers([job.tritonUrl], DIRECT);
  const tts = new TritonTextToSpeech(client, { model: job.model, requestTimeoutMs: 60_000 });
  try {
    return await runStreams(job, async () => ({
      fire: async () => {
        const clock = new PieceClock();
        for await (const _chunk of tts.synthesize(job.request)) clock.piece();
        return clock.sample();
      },
    }));
  } finally {
    client.close();
  }
}

export async function ttsServerSentEvents(job: Extract<Job, { kind: "tts-sse" }>): Promise<StreamResult> {
  const body = JSON.stringify({ text: job.request.text, voice: job.request.voice, speed: job.request.speed });
  return runStreams(job, async () => ({ fire: () => sseRequest(job.httpUrl, body) }));
}

async function sseRequest(httpUrl: string, body: string): Promise<StreamSample> {
  const clock = new PieceClock();
  const response = await fetch(`${httpUrl}/v1/tts/generate/stream`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    const at = performance.now();
    buffered += decoder.decode(chunk, { stream: true });
    // One SSE event per blank-line-terminated block; only complete audio events count as pieces.
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (block.startsWith("event: audio")) clock.piece(at);
      if (block.startsWith("event: error")) throw new Error(block);
      end = buffered.indexOf("\n\n");
    }
  }
  return clock.sample();
}
