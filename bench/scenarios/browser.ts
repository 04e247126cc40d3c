/**
 * Scenario 6, the browser: the same recorded questions (test speech with pauses) fed to one server
 * twice — (a) streamed in real time over the WebSocket by a Bun client in 20 ms binary chunks, and
 * (b) as the microphone of real Chromium running the web page (fake-media flags; AudioWorklet capture,
 * resampling, morgan-client, jitter buffer). Both measure from the end of each question's speech (found
 * in the audio each client sent) to the first reply audio: (a) its arrival at the client; (b) its
 * arrival in the page and when the page schedules it to sound.
 *
 * On a small shared machine Chromium's own CPU use slows the server too, so each turn's server-side
 * share (its own report: last voiced audio in → first audio sent, `tts_first_chunk_ms`) is subtracted:
 * what remains is the client side, and the browser's addition is (b)'s client side − (a)'s.
 * Also the library's and the page's minified and gzipped sizes.
 */
import { join } from "node:path";
import { float32ToPcm16, decodeWav } from "../../src/audio/pcm";
import type { LatencyReport } from "../../src/protocol/messages";
import { TestClient } from "../../tests/pipeline/support/client";
import { diagnostics, launchWithMicrophone, type MicFrame, type PageDiagnostics, type Recording, recordScript, speechEnds, waitFor } from "../../tests/web/support/browser";
import { buildWebClient, bundleSizes } from "../../web/build";
import { ROOT, startMorgan } from "../lib/environment";
import type { Row, Scenario, Target } from "../lib/scenario";
import { difference, distribution, round } from "../lib/stats";

const QUESTIONS = ["what is the weather like today", "please turn off the lights in the kitchen", "what time is it in new york"];
const CHUNK_MS = 20;
/** Replies short enough that each ends before the next question. */
const SERVER_ENV = { MORGAN_MAX_RESPONSE_TOKENS: "24" };

interface Reply {
  firstAudioAt: number;
  latency?: LatencyReport;
}

interface TurnTimes {
  /** End of speech → first reply audio at the client. */
  endToEnd: number;
  /** The server's own share: its end of speech (last voiced audio in) → first audio sent. */
  server: number | null;
}

/** Pairs each reply with the last utterance that ended before its first audio. */
function turnTimes<R extends Reply>(ends: number[], replies: R[], at: (r: R) => number = (r) => r.firstAudioAt): TurnTimes[] {
  return replies.flatMap((reply) => {
    const end = ends.filter((t) => t <= at(reply)).at(-1);
    if (end === undefined) return [];
    return [{ endToEnd: at(reply) - end, server: reply.latency?.tts_first_chunk_ms ?? null }];
  });
}

/** (a) The recording streamed in real time over the WebSocket. */
async function overWebSocket(wsUrl: string, recording: Recording): Promise<TurnTimes[]> {
  const { samples } = decodeWav(await Bun.file(recording.path).bytes());
  const client = await TestClient.connect(`${wsUrl}/ws/stream`);
  client.send({ type: "start", data: {} });
  await client.next("session_started");
  const chunk = (recording.sampleRate * CHUNK_MS) / 1000;
  const sent: MicFrame[] = [];
  const replies = new Map<string, Reply>();
  const watch = setInterval(() => {
    for (const m of client.received) {
      if (m.type === "response_audio" && !replies.has(m.data.turn_id)) replies.set(m.data.turn_id, { firstAudioAt: performance.now() });
      if (m.type === "response_complete" && replies.has(m.data.turn_id)) replies.get(m.data.turn_id)!.latency = m.data.latency;
    }
  }, 1);
  const started = performance.now();
  for (let i = 0; i * chunk < samples.length; i++) {
    const piece = samples.subarray(i * chunk, (i + 1) * chunk);
    client.sendRaw(float32ToPcm16(piece));
    sent.push({ at: performance.now(), samples: piece.length, peak: piece.reduce((peak, s) => Math.max(peak, Math.abs(s)), 0) });
    const wait = started + (i + 1) * CHUNK_MS - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  }
  clearInterval(watch);
  client.send({ type: "stop" });
  await client.closed().catch(() => undefined);
  return turnTimes(speechEnds(sent, CHUNK_MS), [...replies.values()]);
}

/** (b) The recording as Chromium's microphone, into the web page. */
async function inBrowser(url: string, recording: Recording, expectedTurns: number) {
  const browser = await launchWithMicrophone(recording.path);
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole("button", { name: "Start" }).click();
    await waitFor(page, "connected state", (d) => d.state === "connected", 20_000);
    // Wait for the speech itself, not a sample count: on a loaded machine the fake device falls behind
    // and the page hears filler silence, so the recording takes longer than its length to come through.
    const durationMs = (recording.totalSamples / recording.sampleRate) * 1000;
    const heard = (d: PageDiagnostics) => speechEnds(d.micFrames, CHUNK_MS);
    const lastEnd = await waitFor(page, `${expectedTurns} utterances`, (d) => heard(d).length >= expectedTurns && heard(d).at(-1), 2 * durationMs + 30_000);
    await waitFor(page, "the last reply to complete", (d) => Object.values(d.replies).some((r) => r.firstAudioAt > lastEnd && r.latency), 60_000);
    const d = await diagnostics(page);
    const ends = heard(d);
    if (ends.length !== expectedTurns) throw new Error(`found ${ends.length} utterances in the page's microphone audio, expected ${expectedTurns}`);
    const capturedMs = (d.micFrames.reduce((sum, f) => sum + f.samples, 0) / recording.sampleRate) * 1000;
    const wallMs = d.micFrames.at(-1)!.at - d.micFrames[0]!.at;
    const replies = Object.values(d.replies);
    return { arrival: turnTimes(ends, replies), audible: turnTimes(ends, replies, (r) => r.firstSoundAt), page: d, capturedMs, wallMs };
  } finally {
    await browser.close();
  }
}

async function librarySize(): Promise<{ minified: number; gzipped: number }> {
  const result = await Bun.build({ entrypoints: [join(ROOT, "packages/morgan-client/src/browser.ts")], target: "browser", minify: true });
  if (!result.success) throw new Error(`building morgan-client failed: ${result.logs.join("; ")}`);
  const bytes = new Uint8Array(await result.outputs[0]!.arrayBuffer());
  return { minified: bytes.byteLength, gzipped: Bun.gzipSync(bytes).byteLength };
}

const kib = (bytes: number) => round(bytes / 1024, 1);

export const browserTurns: Scenario = async (context) => {
  const turns = context.quick ? 3 : 10;
  const recording = recordScript("bench-browser", [
    { pauseMs: 1500 },
    ...Array.from({ length: turns }, (_, i) => [{ say: QUESTIONS[i % QUESTIONS.length]! }, { pauseMs: 9000 }]).flat(),
  ]);
  const server = await startMorgan({ tritonUrl: context.triton.grpcUrl, env: SERVER_ENV });
  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  try {
    context.log(`browser: ${turns} turns over the WebSocket (Bun client)`);
    const ws = await overWebSocket(server.wsUrl, recording);
    context.log(`browser: the same ${turns} turns in Chromium`);
    const page = await inBrowser(`${server.url}/`, recording, turns);
    const load = `${turns} turns, 1 session`;
    const endToEnd = (times: TurnTimes[]) => distribution(times.map((t) => t.endToEnd));
    const server_ = (times: TurnTimes[]) => distribution(times.flatMap((t) => (t.server === null ? [] : [t.server])));
    const clientSide = (times: TurnTimes[]) => distribution(times.flatMap((t) => (t.server === null ? [] : [t.endToEnd - t.server])));
    const a = endToEnd(ws);
    const b = endToEnd(page.arrival);
    rows.push(
      { figure: "end of speech → first reply audio, WebSocket client (a)", load, unit: "ms", distribution: a },
      { figure: "end of speech → first reply audio arrives in the page (b)", load, unit: "ms", distribution: b },
      { figure: "end of speech → first reply audio scheduled to sound in the page (b + jitter buffer)", load, unit: "ms", distribution: endToEnd(page.audible) },
      { figure: "server's own share in (a): last voiced audio in → first audio sent (tts_first_chunk_ms)", load, unit: "ms", distribution: server_(ws) },
      { figure: "server's own share in (b)", load, unit: "ms", distribution: server_(page.arrival) },
      { figure: "client side of (a): end-to-end − server share", load, unit: "ms", distribution: clientSide(ws) },
      { figure: "client side of (b): end-to-end − server share", load, unit: "ms", distribution: clientSide(page.arrival) },
      { figure: "client side of (b), to the scheduled start", load, unit: "ms", distribution: clientSide(page.audible) },
    );
    const added = difference(clientSide(page.arrival), clientSide(ws));
    const addedAudible = difference(clientSide(page.audible), clientSide(ws));
    const raw = difference(b, a);
    rows.push({ figure: "browser adds: client side (b) − (a)", load, unit: "ms", value: added ? `${added.p50} / ${added.p95} / ${added.p99}` : null });
    rows.push({ figure: "browser adds, to the scheduled start", load, unit: "ms", value: addedAudible ? `${addedAudible.p50} / ${addedAudible.p95} / ${addedAudible.p99}` : null });
    rows.push({ figure: "end-to-end (b) − (a), server slowed by Chromium's CPU included", load, unit: "ms", value: raw ? `${raw.p50} / ${raw.p95} / ${raw.p99}` : null });
    targets.push({
      name: "browser overhead",
      goal: "the page adds < 100 ms (p50) to end of speech → first reply audio",
      measured: `${added?.p50 ?? "n/a"} ms to arrival in the page, ${addedAudible?.p50 ?? "n/a"} ms to its scheduled start (client side); ${raw?.p50 ?? "n/a"} ms end to end`,
      met: added !== null && added.p50 < 100,
      note: "the scheduled start includes the client's 50 ms jitter buffer; end to end includes the server slowed by Chromium on the same cores",
    });
    if (ws.length < turns || page.arrival.length < turns) notes.push(`replies measured: WebSocket ${ws.length}/${turns}, browser ${page.arrival.length}/${turns}`);
    notes.push(`page: ${round(page.capturedMs / 1000, 1)} s of microphone audio in ${round(page.wallMs / 1000, 1)} s (more audio than time means filler silence: the fake device fell behind on the loaded machine)`);
    notes.push(`page: ${page.page.stats.resumes} resumes, ${page.page.stats.gaps} gaps, ${page.page.scheduledSamples} samples scheduled`);

    const library = await librarySize();
    const files = bundleSizes(await buildWebClient());
    const total = files.reduce((sum, f) => ({ minified: sum.minified + f.minified, gzipped: sum.gzipped + f.gzipped }), { minified: 0, gzipped: 0 });
    rows.push({ figure: "morgan-client (browser entry, with zod and the protocol), minified / gzipped", load: "bundle", unit: "KiB", value: `${kib(library.minified)} / ${kib(library.gzipped)}` });
    rows.push({ figure: "web page (html + js + css), minified / gzipped", load: "bundle", unit: "KiB", value: `${kib(total.minified)} / ${kib(total.gzipped)}` });
    return { rows, targets, notes, plots: { ws, arrival: page.arrival, audible: page.audible } };
  } finally {
    await server.stop();
  }
};
