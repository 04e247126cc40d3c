/**
 * Scripted users: each session is a live microphone streaming 20 ms base64 `audio` chunks in real
 * time on an absolute schedule (silence between utterances, as a browser keeps sending), saying its
 * utterances and typing its texts. Times are taken on the client's clock from the send of the chunk
 * that holds an utterance's last voiced sample: to the end-of-turn decision (vad_status
 * speaking=false) and to the reply's first audio. Which reply belongs to which utterance is read from
 * the message order: the end of turn after the last voiced chunk, the final transcription after it,
 * then the first turn id not seen before that transcription.
 */
import type { SpokenItem, SpokenItemResult, SpokenJob, SpokenResult } from "../protocol";
import { CHUNK_MS, type UtteranceAudio, utteranceAudio } from "../utterance";
import { LoadSocket } from "../ws";

/** Microphone silence streamed after `start` before the first utterance. */
const LEAD_IN_MS = 300;
/** Silence between one item done and the next, when items do not follow a rhythm. */
const GAP_MS = 500;

/** What the analysis needs of the server's messages (response_audio only once per turn). */
export interface Arrival {
  at: number;
  type: string;
  speaking?: boolean;
  text?: string;
  turnId?: string;
  latency?: Record<string, number | null>;
  message?: string;
}

/** One item as sent: when it started, when its last voiced chunk (or its text) went out. */
export interface Sent {
  item: SpokenItem;
  index: number;
  startedAt: number;
  /** Speech: the send time of the last voiced chunk; text: the send time of the text. */
  endAt: number;
  audio?: UtteranceAudio;
}

class Microphone {
  private readonly silence = Buffer.from(new Uint8Array((16000 * CHUNK_MS * 2) / 1000)).toString("base64");
  private readonly started = performance.now();
  private ticks = 0;
  readonly arrivals: Arrival[] = [];
  private readonly audioTurns = new Set<string>();

  constructor(readonly socket: LoadSocket) {
    socket.onMessage(({ at, message }) => {
      const data = message.data;
      switch (message.type) {
        case "vad_status":
          return void this.arrivals.push({ at, type: "vad_status", speaking: data.speaking === true });
        case "transcription":
          if (data.is_final === true) this.arrivals.push({ at, type: "final", text: String(data.text) });
          return;
        case "response_text":
          if (data.is_final === false) this.arrivals.push({ at, type: "text", turnId: String(data.turn_id) });
          return;
        case "response_audio":
          if (data.audio_data !== "" && !this.audioTurns.has(String(data.turn_id))) {
            this.audioTurns.add(String(data.turn_id));
            this.arrivals.push({ at, type: "audio", turnId: String(data.turn_id) });
          }
          return;
        case "response_complete":
          return void this.arrivals.push({ at, type: "complete", turnId: String(data.turn_id), text: String(data.text), latency: data.latency as Arrival["latency"] });
        case "error":
          return void this.arrivals.push({ at, type: "error", message: `${data.code}: ${data.message}` });
      }
    });
  }

  /** Sends one chunk at its slot on the schedule; returns its send time. */
  async send(chunk?: string): Promise<number> {
    const wait = this.started + this.ticks * CHUNK_MS - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    this.ticks += 1;
    this.socket.send({ type: "audio", data: { audio_data: chunk ?? this.silence } });
    return performance.now();
  }

  /** Streams silence until `done` or until `until` (performance.now() ms). */
  async silenceUntil(until: number, done: () => boolean = () => false): Promise<void> {
    while (!done() && !this.socket.closed && performance.now() < until) await this.send();
  }
}

/** Reads an item's outcome from the messages that arrived between its start and `windowEnd`. */
export function analyse(sent: Sent, arrivals: readonly Arrival[], windowEnd: number, session: number): SpokenItemResult {
  const { item } = sent;
  const inWindow = arrivals.filter((a) => a.at >= sent.startedAt && a.at < windowEnd);
  const result: SpokenItemResult = {
    session,
    item: sent.index,
    kind: item.kind,
    label: item.label,
    reference: item.kind === "speech" ? item.reference : item.text,
    voice: item.kind === "speech" ? item.utterance.voice : undefined,
    pauseMs: item.kind === "speech" && item.utterance.parts.length > 1 ? item.utterance.pauseMs : undefined,
    prematureEnds: 0,
    endpointingMs: null,
    firstAudioMs: null,
    firstTextMs: null,
    transcript: null,
    reply: null,
    latency: null,
  };
  const errors = inWindow.filter((a) => a.type === "error");
  if (errors.length > 0) result.error = errors.map((e) => e.message).join("; ");
  let turnsFrom = sent.endAt;
  let textFrom = sent.endAt;
  if (item.kind === "speech") {
    const ends = inWindow.filter((a) => a.type === "vad_status" && a.speaking === false);
    result.prematureEnds = ends.filter((a) => a.at < sent.endAt).length;
    const end = ends.find((a) => a.at >= sent.endAt);
    if (!end) return result;
    result.endpointingMs = end.at - sent.endAt;
    const final = inWindow.find((a) => a.type === "final" && a.at >= end.at);
    if (!final) return result;
    result.transcript = final.text ?? "";
    turnsFrom = final.at;
    textFrom = final.at;
  }
  const seenBefore = new Set(arrivals.filter((a) => a.turnId && a.at < turnsFrom).map((a) => a.turnId));
  const turnId = inWindow.find((a) => a.turnId && a.at >= turnsFrom && !seenBefore.has(a.turnId))?.turnId;
  if (!turnId) return result;
  const ofTurn = inWindow.filter((a) => a.turnId === turnId);
  const firstText = ofTurn.find((a) => a.type === "text");
  const firstAudio = ofTurn.find((a) => a.type === "audio");
  const complete = ofTurn.find((a) => a.type === "complete");
  if (firstText) result.firstTextMs = firstText.at - textFrom;
  if (firstAudio) result.firstAudioMs = firstAudio.at - sent.endAt;
  if (complete) {
    result.reply = complete.text ?? "";
    result.latency = complete.latency ?? null;
  }
  return result;
}

function isDone(result: SpokenItemResult, until: SpokenJob["until"]): boolean {
  if (result.error) return true;
  // An empty final transcript starts no turn: nothing more will come for this item.
  if (result.transcript === "") return true;
  if (until === "end_of_turn" && result.kind === "speech") return result.endpointingMs !== null;
  if (until === "complete") return result.latency !== null;
  return result.firstAudioMs !== null;
}

async function open(job: SpokenJob): Promise<Microphone> {
  const socket = await LoadSocket.connect(`${job.wsUrl}/ws/stream`);
  await socket.start(job.settings);
  const mic = new Microphone(socket);
  await mic.silenceUntil(performance.now() + LEAD_IN_MS);
  return mic;
}

/** Says or types one item; returns what was sent. */
async function perform(mic: Microphone, item: SpokenItem, index: number, audio: UtteranceAudio | undefined): Promise<Sent> {
  const startedAt = performance.now();
  if (item.kind === "text") {
    mic.socket.send({ type: "text", data: { text: item.text } });
    return { item, index, startedAt, endAt: performance.now() };
  }
  let endAt = startedAt;
  for (let i = 0; i < audio!.chunks.length; i++) {
    const at = await mic.send(audio!.chunks[i]);
    if (i === audio!.lastVoiced) endAt = at;
  }
  return { item, index, startedAt, endAt, audio };
}

async function runSession(job: SpokenJob, session: number, deadline: number, audio: Map<SpokenItem, UtteranceAudio>): Promise<SpokenItemResult[]> {
  const { items, offsetMs } = job.sessions[session]!;
  const jobStart = performance.now();
  await Bun.sleep(offsetMs);
  const results: SpokenItemResult[] = [];
  let mic: Microphone | undefined;
  const sentAll: Sent[] = [];
  try {
    for (let index = 0; index < items.length && performance.now() < deadline; index++) {
      if (!mic || job.sessionPerItem) mic = await open(job);
      if (job.everyMs !== undefined) await mic.silenceUntil(jobStart + offsetMs + LEAD_IN_MS + index * job.everyMs);
      const sent = await perform(mic, items[index]!, index, audio.get(items[index]!));
      sentAll.push(sent);
      const timeout = Math.min(deadline, performance.now() + job.itemTimeoutMs);
      const current = mic;
      const done = () => isDone(analyse(sent, current.arrivals, Infinity, session), job.until);
      // With a rhythm the microphone streams on to the next item's slot; the last item waits for its reply.
      if (job.everyMs === undefined || index === items.length - 1) await mic.silenceUntil(timeout, done);
      if (job.sessionPerItem) {
        results.push(analyse(sent, mic.arrivals, Infinity, session));
        await mic.socket.stop();
      } else if (job.everyMs === undefined) {
        await mic.silenceUntil(performance.now() + GAP_MS);
      }
    }
    if (!job.sessionPerItem && mic) {
      sentAll.forEach((sent, i) => results.push(analyse(sent, mic!.arrivals, sentAll[i + 1]?.startedAt ?? Infinity, session)));
      await mic.socket.stop();
    }
  } catch (error) {
    await mic?.socket.stop().catch(() => undefined);
    throw error;
  }
  return results;
}

export async function spokenSessions(job: SpokenJob): Promise<SpokenResult> {
  const started = performance.now();
  const deadline = started + job.deadlineS * 1000;
  // Synthesised (or read from the speech cache) before any session starts, so no session waits on it.
  const audio = new Map<SpokenItem, UtteranceAudio>();
  for (const { items } of job.sessions) for (const item of items) if (item.kind === "speech") audio.set(item, utteranceAudio(item.utterance));
  const errors: string[] = [];
  const items: SpokenItemResult[] = [];
  await Promise.all(
    job.sessions.map(async (_, session) => {
      try {
        items.push(...(await runSession(job, session, deadline, audio)));
      } catch (error) {
        errors.push(`session ${session}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
  items.sort((a, b) => a.session - b.session || a.item - b.item);
  return { items, errors: errors.slice(0, 20), wallS: (performance.now() - started) / 1000 };
}
