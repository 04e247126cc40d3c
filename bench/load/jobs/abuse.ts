/**
 * Abuse load (issue 12): one session floods texts while another pings and takes turns, measured
 * from separate worker processes; and the protocol fuzzer (tests/security/support/fuzz.ts).
 */
import { runFuzz, type FuzzStats } from "../../../tests/security/support/fuzz";
import type { Job, PingWatchResult, TextFloodResult } from "../protocol";
import { LoadSocket } from "../ws";

/** Sends `texts` texts at once from one session and counts how each was answered. */
export async function textFlood(job: Extract<Job, { kind: "text-flood" }>): Promise<TextFloodResult> {
  const socket = await LoadSocket.connect(`${job.wsUrl}/ws/stream`);
  await socket.start({ max_response_tokens: 8 });
  let rateLimited = 0;
  let otherErrors = 0;
  let completed = 0;
  let interrupted = 0;
  socket.onMessage(({ message }) => {
    if (message.type === "error") {
      if (message.data.code === "rate_limited") rateLimited += 1;
      else otherErrors += 1;
    } else if (message.type === "response_complete") completed += 1;
    else if (message.type === "interrupted") interrupted += 1;
  });
  await Bun.sleep(job.delayMs);
  const startedAt = Date.now();
  const json = JSON.stringify({ type: "text", data: { text: job.text } });
  for (let i = 0; i < job.texts; i++) socket.sendRaw(json);
  const sentAt = Date.now();
  // Answered: every text refused (rate_limited) or taken (its turn completed or was interrupted by the next).
  const deadline = Date.now() + job.answerTimeoutMs;
  while (rateLimited + otherErrors + completed + interrupted < job.texts && Date.now() < deadline && !socket.closed) await Bun.sleep(20);
  const answeredAt = Date.now();
  await socket.stop().catch(() => {});
  return { sent: job.texts, startedAt, sentMs: sentAt - startedAt, answeredMs: answeredAt - startedAt, rateLimited, otherErrors, completed, interrupted };
}

/** Pings every `intervalMs` and takes text turns back to back, for `durationS`. */
export async function pingWatch(job: Extract<Job, { kind: "ping-watch" }>): Promise<PingWatchResult> {
  const socket = await LoadSocket.connect(`${job.wsUrl}/ws/stream`);
  await socket.start({ max_response_tokens: 8 });
  const pings: { sentAt: number; rttMs: number | null }[] = [];
  const pending = new Map<number, { sentAt: number; sentPerf: number; index: number }>();
  socket.onMessage(({ at, message }) => {
    if (message.type !== "pong") return;
    const id = Number(message.data.timestamp);
    const sent = pending.get(id);
    if (!sent) return;
    pending.delete(id);
    pings[sent.index]!.rttMs = at - sent.sentPerf;
  });
  const until = Date.now() + job.durationS * 1000;
  let id = 0;
  const pinger = (async () => {
    while (Date.now() < until && !socket.closed) {
      id += 1;
      pending.set(id, { sentAt: Date.now(), sentPerf: performance.now(), index: pings.length });
      pings.push({ sentAt: Date.now(), rttMs: null });
      socket.send({ type: "ping", data: { timestamp: id } });
      await Bun.sleep(job.intervalMs);
    }
  })();
  const turns: { sentAt: number; ms: number | null; error?: string }[] = [];
  while (Date.now() < until - job.turnTimeoutMs && !socket.closed) {
    const sent = performance.now();
    const turn = { sentAt: Date.now(), ms: null as number | null, error: undefined as string | undefined };
    turns.push(turn);
    const done = socket.waitFor((m) => m.type === "response_complete", job.turnTimeoutMs);
    socket.send({ type: "text", data: { text: job.text } });
    try {
      turn.ms = (await done).at - sent;
    } catch (error) {
      turn.error = error instanceof Error ? error.message : String(error);
    }
    await Bun.sleep(job.turnGapMs);
  }
  await pinger;
  await Bun.sleep(1000);
  await socket.stop().catch(() => {});
  return { pings, turns };
}

export function fuzz(job: Extract<Job, { kind: "fuzz" }>): Promise<FuzzStats> {
  return runFuzz({ wsUrl: job.wsUrl, frames: job.frames, seed: job.seed, lanes: job.lanes, log: (line) => console.error(line) });
}
