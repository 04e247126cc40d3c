/**
 * Issue 12, defect 2: the `vad` model holds 64 sequences (max_candidate_sequences). Sessions that
 * spoke once and fell silent used to keep theirs until Triton's 60 s idle timeout, so a new
 * speaker got no voice detection and, 30 s later, DEADLINE_EXCEEDED. Now a quiet session gives its
 * sequence back (pipeline.vad.releaseAfterMs, 1 s here) and a new speaker is heard at once.
 */
import { expect, test } from "bun:test";
import { TestClient, streamAudio } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";
import { pcmChunks, silence, speak } from "../pipeline/support/speech";

const VAD_SEQUENCES = 64;
const server = useServer({ env: { MORGAN_VAD_RELEASE_AFTER_MS: "1000", MORGAN_QUOTA_CONNECTIONS_PER_IP: "100" } });

test("66 sessions that spoke and fell quiet do not keep a new speaker from being heard", async () => {
  const idle: TestClient[] = [];
  const chunk = pcmChunks(silence(200))[0]!;
  for (let i = 0; i < VAD_SEQUENCES + 2; i++) {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.send({ type: "start" });
    await client.next("session_started");
    // A little audio takes a VAD sequence; then the session falls silent.
    for (let k = 0; k < 5; k++) client.sendRaw(chunk);
    idle.push(client);
  }
  await Bun.sleep(2500);
  const speaker = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  speaker.send({ type: "start" });
  await speaker.next("session_started");
  const started = performance.now();
  await streamAudio(speaker, pcmChunks(new Float32Array([...silence(200), ...speak("hello how are you"), ...silence(300)])), 20, true);
  await speaker.next("vad_status", { where: (m) => m.data.speaking, timeoutMs: 15_000 });
  expect(performance.now() - started).toBeLessThan(15_000);
  expect(speaker.all("error")).toEqual([]);
  for (const client of [...idle, speaker]) client.close();
}, 120_000);
