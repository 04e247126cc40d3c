/**
 * The web page in real Chromium against a real Morgan (Triton models, PostgreSQL, Redis): a WAV is
 * the microphone. It must show the spoken question and the reply, play the reply, stop playback when
 * a second spoken clip barges in, and resume a dropped connection with no message lost or repeated.
 * Assertions are about behaviour, not the models' exact words.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { TcpProxy } from "../helpers/tcp-proxy";
import { type RunningServer, startServer } from "../pipeline/support/server";
import { diagnostics, launchWithMicrophone, recordScript, waitFor } from "./support/browser";

const RUN_DIR = join(import.meta.dir, "../../.run");
/** Long replies, whatever the model: a barge-in and a forced drop must land while one is still playing. */
const LONG_REPLIES = { MORGAN_SYSTEM_PROMPT: "You are Morgan. Answer in at least four full sentences.", MORGAN_MAX_RESPONSE_TOKENS: "160" };

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ env: LONG_REPLIES });
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(url);
  await page.getByRole("button", { name: "Start" }).click();
  await waitFor(page, "connected state", (d) => d.state === "connected", 20_000);
  return page;
}

describe("web page in Chromium", () => {
  test("GET / serves the page and its assets with a content security policy", async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await response.text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
  });

  test("a spoken question shows as a transcript, the reply streams and plays, and a second clip barges in", async () => {
    const recording = recordScript("barge-in", [
      { pauseMs: 1500 },
      { say: "What is the weather like today?" },
      { pauseMs: 2600 },
      { say: "Stop please. Tell me about the lights in the kitchen instead." },
      { pauseMs: 8000 },
    ]);
    const browser = await launchWithMicrophone(recording.path);
    try {
      const page = await openPage(browser, `${server.url}/`);
      // The question, as a final transcript in the page.
      await page.locator(".log .user").first().waitFor({ timeout: 30_000 });
      expect((await page.locator(".log .user").first().textContent())?.trim()).not.toBe("");
      // The reply, as text and as audio the page scheduled.
      await page.locator(".log .assistant .text").first().waitFor({ timeout: 30_000 });
      await waitFor(page, "reply audio", (d) => Object.keys(d.replies)[0]);
      await waitFor(page, "scheduled samples", (d) => d.scheduledSamples > 0);
      expect((await page.locator(".log .assistant .text").first().textContent())?.trim()).not.toBe("");

      // The second clip interrupts a reply that is playing: the server says so, and the page's playback stops at once.
      const cutReply = await waitFor(page, "a playing reply interrupted by the server", (d) => Object.entries(d.replies).find(([, r]) => r.stoppedBy === "server")?.[0], 60_000);
      const cut = await diagnostics(page);
      const interrupted = cut.messages.find((m) => m.type === "interrupted" && m.turnId === cutReply)!;
      expect(cut.replies[cutReply]!.stoppedAt! - interrupted.at).toBeLessThan(50);
      await Bun.sleep(300);
      const after = await diagnostics(page);
      expect(after.replies[cutReply]!.scheduledSamples).toBe(cut.replies[cutReply]!.scheduledSamples);
      const bubble = page.locator(`.log .assistant[data-turn-id="${cutReply}"]`);
      expect(await bubble.getAttribute("class")).toContain("interrupted");
      expect(await bubble.locator(".heard").textContent()).toMatch(/interrupted/);

      // The barge-in's own words start the next turn, which completes with its latency bar.
      await waitFor(page, "the next reply to complete", (d) => d.messages.some((m) => m.type === "response_complete"), 60_000);
      await page.locator(".log .latency").first().waitFor({ timeout: 5_000 });
      expect(await page.locator(".log .latency span").count()).toBeGreaterThanOrEqual(3);
      // The history panel reads the stored conversation over REST: the cut reply is stored as heard.
      await page.getByText("History").click();
      await page.locator("#history-messages li.interrupted").first().waitFor({ timeout: 10_000 });
      expect(await page.locator("#history-messages li").count()).toBeGreaterThanOrEqual(3);
      // The settings form takes its bounds from the protocol schema, and applying it reaches the server.
      await page.getByText("Voice and turn-taking settings").click();
      expect(await page.getByLabel("Turn detection").locator("option").allTextContents()).toEqual(["server default", "semantic", "silence"]);
      const threshold = page.getByLabel("Speech threshold");
      expect([await threshold.getAttribute("min"), await threshold.getAttribute("max")]).toEqual(["0.05", "0.95"]);
      await threshold.fill("0.6");
      await page.getByRole("button", { name: "Apply" }).click();
      await Bun.sleep(300);
      expect((await diagnostics(page)).messages.filter((m) => m.type === "error")).toEqual([]);
      const final = await diagnostics(page);
      expect(final.stats.gaps).toBe(0);
      expect(final.stats.duplicatesDropped).toBe(0);
      mkdirSync(RUN_DIR, { recursive: true });
      await page.screenshot({ path: join(RUN_DIR, "web-client.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 150_000);

  test("keyboard only: push-to-talk with Space sends audio only while held, Esc interrupts the reply", async () => {
    const recording = recordScript("push-to-talk", [
      { pauseMs: 1500 },
      { say: "Hello there, this is not for you." },
      { pauseMs: 2000 },
      { say: "What time is it in New York?" },
      { pauseMs: 12_000 },
    ]);
    const browser = await launchWithMicrophone(recording.path);
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      await page.goto(`${server.url}/`);
      await page.getByLabel("Push-to-talk").check();
      await page.getByRole("button", { name: "Start" }).press("Enter");
      await waitFor(page, "connected state", (d) => d.state === "connected", 20_000);
      const talk = page.getByRole("button", { name: "Hold to talk" });
      await talk.focus();
      const captureStart = (await waitFor(page, "microphone audio", (d) => d.micFrames[0]))!.at;
      const until = async (fileMs: number) => {
        const now = await page.evaluate(() => performance.now());
        await Bun.sleep(Math.max(0, captureStart + fileMs - now));
      };
      // The first sentence is spoken with the key up: none of it reaches the server, which hears no speech.
      await until(recording.speechEndsMs[0]! + 900);
      expect((await diagnostics(page)).messages.filter((m) => m.type === "vad_status" || m.type === "transcription")).toEqual([]);
      await page.keyboard.down("Space");
      expect(await talk.getAttribute("aria-pressed")).toBe("true");
      // Let go just after the question ends, before the VAD's silence would end the turn.
      await until(recording.speechEndsMs[1]! + 100);
      await page.keyboard.up("Space");
      await page.locator(".log .user").first().waitFor({ timeout: 30_000 });
      expect((await page.locator(".log .user").first().textContent())?.trim()).not.toBe("");
      const reply = await waitFor(page, "reply audio", (d) => Object.keys(d.replies)[0], 30_000);
      await page.keyboard.press("Escape");
      const interrupted = await waitFor(page, "interrupted", (d) => d.messages.find((m) => m.type === "interrupted"), 10_000);
      const d = await diagnostics(page);
      expect(d.replies[reply]!.stoppedBy).toBe("client");
      expect(d.playing).toBe(false);
      expect(interrupted.seq).toBeGreaterThan(0);
      expect(await page.locator(`.log .assistant[data-turn-id="${reply}"]`).getAttribute("class")).toContain("interrupted");
    } finally {
      await browser.close();
    }
  }, 150_000);

  test("a dropped connection resumes: every message arrives once, in order, and the reply is whole", async () => {
    const proxy = new TcpProxy("127.0.0.1", server.port).start();
    const recording = recordScript("resume", [{ pauseMs: 1500 }, { say: "Please turn off the lights in the kitchen." }, { pauseMs: 20_000 }]);
    const browser = await launchWithMicrophone(recording.path);
    try {
      const page = await openPage(browser, `http://127.0.0.1:${proxy.port}/`);
      await waitFor(page, "reply text", (d) => d.messages.some((m) => m.type === "response_text"), 40_000);
      // The network fails under the page (connections reset, new ones refused), then comes back.
      proxy.cut();
      await waitFor(page, "reconnecting state", (d) => d.state === "reconnecting", 5_000);
      await Bun.sleep(700);
      proxy.restore();
      await waitFor(page, "resumed session", (d) => d.stats.resumes >= 1 && d.state === "connected", 20_000);
      const done = await waitFor(page, "response_complete", (d) => d.messages.find((m) => m.type === "response_complete" || m.type === "interrupted"), 60_000);
      expect(done.type).toBe("response_complete");

      const d = await diagnostics(page);
      expect(d.seqs).toEqual(d.seqs.map((_, i) => i + 1));
      expect(d.stats.gaps).toBe(0);
      const client = await page.evaluate(() => {
        const { client } = (globalThis as unknown as { morgan: { client: { lastSeq: number; session: { conversation_id: string } } } }).morgan;
        return { lastSeq: client.lastSeq, conversationId: client.session.conversation_id };
      });
      expect(client.lastSeq).toBe(d.seqs.at(-1)!);
      // The reply on screen is exactly the stored one: no delta shown twice or missing.
      const shown = (await page.locator(".log .assistant .text").first().textContent())!.trim();
      const stored = await server.sql<{ content: string }[]>`
        select content from messages where conversation_id = ${client.conversationId} and role = 'assistant' order by sequence_number limit 1`;
      expect(shown).toBe(stored[0]!.content);
    } finally {
      await browser.close();
      proxy.stop();
    }
  }, 150_000);
});
