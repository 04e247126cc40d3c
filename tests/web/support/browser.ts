/**
 * Real Chromium for the web page's tests and the browser bench: Debian's `chromium` (scripts/test.sh
 * installs it when missing; no browser download), driven by playwright-core, with a WAV file as its
 * microphone through Chromium's fake-media flags.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { encodeWav } from "../../../src/audio/pcm";
import type { LatencyReport } from "../../../src/protocol/messages";
import { silence, speak } from "../../pipeline/support/speech";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

export function chromiumPath(): string {
  const found = CANDIDATES.find((path): path is string => !!path && existsSync(path));
  if (!found) throw new Error("Chromium is needed for the web tests: apt-get install chromium (scripts/test.sh installs it), or set CHROMIUM_PATH");
  return found;
}

/** Launches headless Chromium whose microphone plays `wav` once (then silence). */
export async function launchWithMicrophone(wav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      "--autoplay-policy=no-user-gesture-required",
      "--no-sandbox",
    ],
  });
}

export interface Segment {
  /** Spoken words, or a pause. */
  say?: string;
  pauseMs?: number;
}

export interface Recording {
  path: string;
  sampleRate: number;
  /** Where each spoken segment ends, in ms from the start of the file. */
  speechEndsMs: number[];
  totalSamples: number;
}

/** Writes a 16 kHz WAV of test speech (tests/pipeline/support/speech.ts) and pauses. */
export function recordScript(name: string, segments: Segment[], sampleRate = 16000): Recording {
  const parts: Float32Array[] = [];
  const speechEndsMs: number[] = [];
  let total = 0;
  for (const segment of segments) {
    const samples = segment.say !== undefined ? speak(segment.say, undefined, sampleRate) : silence(segment.pauseMs ?? 0, sampleRate);
    parts.push(samples);
    total += samples.length;
    if (segment.say !== undefined) speechEndsMs.push((total / sampleRate) * 1000);
  }
  const all = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  const dir = join(tmpdir(), "morgan-web-tests");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${process.pid}.wav`);
  writeFileSync(path, encodeWav(all, sampleRate));
  return { path, sampleRate, speechEndsMs, totalSamples: total };
}

export interface MicFrame {
  at: number;
  samples: number;
  peak: number;
}

/** The page's counters (window.morgan in web/app.ts). */
export interface PageDiagnostics {
  state: string;
  seqs: number[];
  messages: { type: string; seq: number; at: number; turnId?: string }[];
  scheduledSamples: number;
  replies: Record<string, { firstAudioAt: number; firstSoundAt: number; scheduledSamples: number; stoppedAt?: number; stoppedBy?: string; latency?: LatencyReport }>;
  micFrames: MicFrame[];
  playing: boolean;
  stats: { duplicatesDropped: number; gaps: number; resumes: number; audioDropped: number };
}

export function diagnostics(page: Page): Promise<PageDiagnostics> {
  return page.evaluate(() => {
    const m = (globalThis as unknown as { morgan: PageDiagnostics & { client?: { stats: PageDiagnostics["stats"] } } }).morgan;
    const { client: _client, ...rest } = m;
    return JSON.parse(JSON.stringify({ ...rest, stats: m.client?.stats }));
  });
}

/** Polls the page until `check` passes or the time is up; the error says what was last seen. */
export async function waitFor<T>(page: Page, what: string, check: (d: PageDiagnostics) => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: PageDiagnostics | undefined;
  for (;;) {
    last = await diagnostics(page);
    const value = check(last);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const seen = last.messages.map((m) => m.type).join(", ") || "no messages";
      throw new Error(`no ${what} within ${timeoutMs} ms (state ${last.state}; received: ${seen})`);
    }
    await Bun.sleep(100);
  }
}

/**
 * When each utterance ended, read from the audio itself: the time of the last frame above `level`
 * before at least `pauseMs` of quiet. Works the same on the page's captured frames and on the frames
 * a WebSocket client sends, so both sides measure from the same point of the speech.
 */
export function speechEnds(frames: readonly MicFrame[], frameMs: number, level = 0.02, pauseMs = 1500): number[] {
  const ends: number[] = [];
  let lastLoud: MicFrame | undefined;
  let quietMs = 0;
  for (const frame of frames) {
    if (frame.peak >= level) {
      lastLoud = frame;
      quietMs = 0;
      continue;
    }
    quietMs += frameMs;
    if (lastLoud && quietMs >= pauseMs) {
      ends.push(lastLoud.at);
      lastLoud = undefined;
    }
  }
  if (lastLoud) ends.push(lastLoud.at);
  return ends;
}
