/**
 * Morgan's web page: talks to Morgan with the morgan-client library — microphone in (hands-free or
 * push-to-talk), transcripts and the streaming reply out, barge-in, history and settings.
 *
 * `window.morgan` exposes the page's counters (samples scheduled, seqs delivered, timings) for the
 * browser tests and the latency bench; the page itself does not read them.
 */
import {
  type ConnectionState,
  type LatencyReport,
  Microphone,
  MorganClient,
  ReplyPlayer,
  type ServerMessage,
  WebAudioOutput,
} from "../packages/morgan-client/src/browser";
import { ConversationView } from "./conversation-view";
import { HistoryPanel } from "./history";
import { buildSettingsForm } from "./settings-form";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the tests and the bench read. Times are performance.now() in ms. */
const diagnostics = {
  state: "idle" as ConnectionState,
  /** Every server seq delivered to the page, in order. */
  seqs: [] as number[],
  messages: [] as { type: string; seq: number; at: number; turnId?: string }[],
  scheduledSamples: 0,
  /** Per reply: when its first audio arrived and when it starts to sound. */
  replies: {} as Record<string, { firstAudioAt: number; firstSoundAt: number; scheduledSamples: number; stoppedAt?: number; stoppedBy?: string; latency?: LatencyReport }>,
  /** When each microphone frame was captured, its size in samples (16 kHz) and its peak level (0–1), sent or not. */
  micFrames: [] as { at: number; samples: number; peak: number }[],
  playing: false,
  client: undefined as MorganClient | undefined,
};
Object.assign(window, { morgan: diagnostics });

const tokenUrl = document.querySelector<HTMLMetaElement>('meta[name="morgan-token-url"]')?.content ?? "";
let token: string | undefined;

/** A short-lived token from the page operator's server (never a long-lived key in the page). */
async function freshToken(): Promise<string> {
  const response = await fetch(tokenUrl, { method: "POST", credentials: "include" });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const body = (await response.json()) as { token?: unknown };
  if (typeof body.token !== "string") throw new Error("token endpoint returned no token");
  token = body.token;
  return token;
}

function rest(path: string): Promise<Response> {
  return fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Without authentication the page names its user itself (kept in this browser). */
function localUserId(): string | undefined {
  if (tokenUrl) return undefined;
  let id = localStorage.getItem("morgan.user");
  if (!id) localStorage.setItem("morgan.user", (id = `web-${crypto.randomUUID().slice(0, 8)}`));
  return id;
}

const view = new ConversationView($("log"), $("partial"));
const history = new HistoryPanel($("conversations"), $("history-messages"), rest);
const stateBadge = $<HTMLOutputElement>("state");
const buttons = {
  start: $<HTMLButtonElement>("start"),
  talk: $<HTMLButtonElement>("talk"),
  interrupt: $<HTMLButtonElement>("interrupt"),
  end: $<HTMLButtonElement>("end"),
};
const typeInput = $<HTMLInputElement>("type-input");
const typeForm = $<HTMLFormElement>("type-form");

let client: MorganClient | undefined;
let player: ReplyPlayer | undefined;
let microphone: Microphone | undefined;
let audio: AudioContext | undefined;
let talking = false;

const pushToTalk = () => (document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value ?? "hands-free") === "push-to-talk";

function showState(state: ConnectionState, reason?: string): void {
  diagnostics.state = state;
  stateBadge.dataset.state = state;
  const words: Record<ConnectionState, string> = {
    idle: "not connected",
    connecting: "connecting…",
    open: "connected",
    starting: "starting…",
    connected: "connected",
    reconnecting: "reconnecting…",
    closed: "disconnected",
  };
  stateBadge.textContent = reason && state !== "connected" ? `${words[state]} (${reason})` : words[state];
  const live = state === "connected" || state === "reconnecting";
  buttons.start.disabled = live || state === "connecting" || state === "starting";
  buttons.end.disabled = !live;
  buttons.interrupt.disabled = !live;
  buttons.talk.disabled = !live || !pushToTalk();
  typeInput.disabled = !live;
  typeForm.querySelector("button")!.disabled = !live;
}

function onMessage(message: ServerMessage): void {
  const at = performance.now();
  diagnostics.seqs.push(message.seq);
  diagnostics.messages.push({ type: message.type, seq: message.seq, at, turnId: "turn_id" in message.data ? message.data.turn_id : undefined });
  switch (message.type) {
    case "transcription":
      return view.transcript(message.data.text, message.data.is_final);
    case "response_text":
      return view.replyDelta(message.data.turn_id, message.data.text);
    case "interrupted":
      return view.interrupted(message.data.turn_id, message.data.heard_text);
    case "response_complete":
      if (diagnostics.replies[message.data.turn_id]) diagnostics.replies[message.data.turn_id]!.latency = message.data.latency;
      view.complete(message.data.turn_id, message.data.latency);
      return void refreshHistory();
    case "error":
      return view.transcript(`⚠ ${message.data.message}`, false);
  }
}

async function refreshHistory(): Promise<void> {
  const conversation = client?.session?.conversation_id;
  if (!conversation) return;
  try {
    await history.refresh(localUserId(), conversation);
  } catch (error) {
    console.warn("history unavailable", error);
  }
}

async function start(): Promise<void> {
  buttons.start.disabled = true;
  // Created on the click, so the browser lets it play sound.
  audio ??= new AudioContext({ latencyHint: "interactive" });
  await audio.resume();
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/stream`;
  client = new MorganClient({ url, token: tokenUrl ? freshToken : undefined });
  diagnostics.client = client;
  client.on("state", (s) => {
    showState(s.state, s.reason);
    if (s.state === "closed") release();
  });
  client.on("message", onMessage);
  player = new ReplyPlayer(client, new WebAudioOutput(audio));
  player.on("scheduled", (e) => {
    diagnostics.scheduledSamples += e.samples;
    const now = performance.now();
    const soundsAt = e.startsAt === null ? now : now + (e.startsAt - audio!.currentTime) * 1000;
    const reply = (diagnostics.replies[e.turnId] ??= { firstAudioAt: now, firstSoundAt: soundsAt, scheduledSamples: 0 });
    reply.scheduledSamples += e.samples;
  });
  player.on("paused", (e) => view.paused(e.turnId, e.paused));
  player.on("stopped", (e) => {
    const reply = diagnostics.replies[e.turnId];
    if (reply) Object.assign(reply, { stoppedAt: performance.now(), stoppedBy: e.by });
  });
  const frame = (pcm: Uint8Array) => {
    diagnostics.micFrames.push({ at: performance.now(), samples: pcm.byteLength / 2, peak: peakOf(pcm) });
    if (pushToTalk() && !talking) return;
    client?.sendAudio(pcm);
  };
  try {
    microphone = await Microphone.open(audio, frame);
    const userId = localUserId();
    await client.start({
      ...settings(),
      ...(userId ? { user_id: userId } : {}),
      // Tell Morgan whether the browser cancels its echo: without it barge-in needs longer speech.
      echo_cancellation: microphone.settings.echoCancellation === true,
    });
    void refreshHistory();
  } catch (error) {
    showState("closed", (error as Error).message);
    release();
  }
}

/** The session is over: the microphone and the player go with it. */
function release(): void {
  microphone?.close();
  microphone = undefined;
  player?.dispose();
  player = undefined;
}

async function end(): Promise<void> {
  release();
  await client?.stop();
}

function peakOf(pcm: Uint8Array): number {
  let peak = 0;
  for (const sample of new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2)) peak = Math.max(peak, Math.abs(sample));
  return peak / 0x8000;
}

function setTalking(on: boolean): void {
  if (talking === on || buttons.talk.disabled) return;
  talking = on;
  buttons.talk.setAttribute("aria-pressed", String(on));
  if (on) player?.interrupt();
  else client?.send({ type: "utterance_end" });
}

setInterval(() => (diagnostics.playing = player?.queue.playing ?? false), 50);

buttons.start.addEventListener("click", () => void start());
buttons.end.addEventListener("click", () => void end());
buttons.interrupt.addEventListener("click", () => player?.interrupt());
buttons.talk.addEventListener("pointerdown", () => setTalking(true));
buttons.talk.addEventListener("pointerup", () => setTalking(false));
buttons.talk.addEventListener("pointerleave", () => setTalking(false));
buttons.talk.addEventListener("keydown", (event) => {
  if (event.key === " " && !event.repeat) {
    event.preventDefault();
    setTalking(true);
  }
});
buttons.talk.addEventListener("keyup", (event) => {
  if (event.key === " ") setTalking(false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") player?.interrupt();
});
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  radio.addEventListener("change", () => showState(client?.state ?? "idle"));
}
typeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = typeInput.value.trim();
  if (!text || !client) return;
  player?.interrupt();
  view.userLine(text);
  client.text(text);
  typeInput.value = "";
});
const settings = buildSettingsForm($("settings-form"), (changed) => client?.config(changed));
showState("idle");
