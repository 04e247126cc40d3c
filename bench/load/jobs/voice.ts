/**
 * Voice turns as a user makes them: a Flite-spoken question streamed as 20 ms base64 audio chunks in
 * real time, then silence (a live microphone keeps sending) until the reply completes. Client-side
 * times come from message arrivals; the server's own stage timings from response_complete.
 */
import { pcmChunks, silence, speak } from "../../../tests/pipeline/support/speech";
import type { Job, VoiceResult, VoiceTurnSample } from "../protocol";
import { type Arrival, LoadSocket } from "../ws";

const CHUNK_MS = 20;
const TURN_TIMEOUT_MS = 60_000;

interface SpokenQuestion {
  text: string;
  speech: string[];
  silence: string;
}

function prepare(questions: string[], trailingSilenceMs: number): SpokenQuestion[] {
  const quiet = pcmChunks(silence(CHUNK_MS))[0]!;
  const silenceChunk = Buffer.from(quiet).toString("base64");
  return questions.map((text) => ({
    text,
    speech: pcmChunks(speak(text), CHUNK_MS).map((chunk) => Buffer.from(chunk).toString("base64")),
    silence: silenceChunk,
  }));
}

async function oneTurn(wsUrl: string, question: SpokenQuestion, trailingSilenceMs: number, deadline: number): Promise<VoiceTurnSample> {
  const socket = await LoadSocket.connect(`${wsUrl}/ws/stream`);
  try {
    await socket.start({});
    let speechEndSentAt: number | undefined;
    let vadEndAt: number | undefined;
    let finalTranscriptAt: number | undefined;
    let transcript = "";
    let firstTextAt: number | undefined;
    let firstAudioAt: number | undefined;
    socket.onMessage(({ at, message }: Arrival) => {
      const data = message.data;
      if (message.type === "vad_status" && data.speaking === false && firstAudioAt === undefined) vadEndAt = at;
      if (message.type === "transcription" && data.is_final === true && firstTextAt === undefined) {
        finalTranscriptAt = at;
        transcript = String(data.text);
      }
      if (message.type === "response_text" && data.is_final === false) firstTextAt ??= at;
      if (message.type === "response_audio" && data.audio_data !== "") firstAudioAt ??= at;
    });
    const complete = socket.waitFor((m) => m.type === "response_complete", Math.max(1000, Math.min(TURN_TIMEOUT_MS, deadline - performance.now())));
    let replied = false;
    void complete.then(() => (replied = true), () => (replied = true));

    // The question, paced in real time on an absolute schedule (a late tick does not shift the rest).
    const started = performance.now();
    let index = 0;
    const due = () => started + index * CHUNK_MS;
    for (const chunk of question.speech) {
      const wait = due() - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      socket.send({ type: "audio", data: { audio_data: chunk } });
      index += 1;
    }
    speechEndSentAt = performance.now();
    // Then the microphone keeps sending silence until the reply is complete (or the time is up).
    const silenceUntil = performance.now() + Math.max(trailingSilenceMs, TURN_TIMEOUT_MS);
    while (!replied && !socket.closed && performance.now() < Math.min(silenceUntil, deadline)) {
      const wait = due() - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      socket.send({ type: "audio", data: { audio_data: question.silence } });
      index += 1;
    }
    const done = await complete;
    const latency = (done.message.data.latency ?? null) as Record<string, number | null> | null;
    const between = (from?: number, to?: number) => (from !== undefined && to !== undefined ? to - from : null);
    return {
      endOfSpeechToAudioMs: between(vadEndAt, firstAudioAt),
      finalTranscriptToTextMs: between(finalTranscriptAt, firstTextAt),
      lastChunkToVadEndMs: between(speechEndSentAt, vadEndAt),
      latency,
      transcript,
      audioChunks: index,
    };
  } finally {
    await socket.stop();
  }
}

export async function voiceTurns(job: Extract<Job, { kind: "voice-turns" }>): Promise<VoiceResult> {
  const questions = prepare(job.questions, job.trailingSilenceMs);
  const started = performance.now();
  const deadline = started + job.deadlineS * 1000;
  const samples: VoiceTurnSample[] = [];
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: job.sessions }, async (_, i) => {
      await Bun.sleep((job.rampMs * i) / Math.max(1, job.sessions));
      try {
        samples.push(await oneTurn(job.wsUrl, questions[i % questions.length]!, job.trailingSilenceMs, deadline));
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }),
  );
  return { samples, errors: errors.slice(0, 20), wallS: (performance.now() - started) / 1000 };
}
