/**
 * Gateway cost per session, for docs/capacity.md: `bun run bench/capacity.ts` (uses scripts/cluster.sh's
 * cluster, starting it if it is down and stopping it afterwards). One gateway (gateway 3, reached
 * directly, not through HAProxy, so every session lands on it) is measured from /proc while it holds:
 *   1. nothing (baseline), 2. N idle sessions, 3. M voice sessions streaming real-time audio (a spoken
 *   question, then silence, over and over: VAD on every chunk, STT, a reply from the instant LLM/TTS),
 *   4. M text sessions taking a turn every 2 s.
 * Writes bench/results/capacity.json and capacity.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuSeconds, loadAverage, rssKiB } from "./lib/procstat";
import { TestClient } from "../tests/pipeline/support/client";
import { pcmChunks, silence, speak } from "../tests/pipeline/support/speech";

const ROOT = join(import.meta.dir, "..");
const BASE = Number(process.env.CLUSTER_PORT_BASE ?? 8400);
const GATEWAY = 3;
const IDLE = Number(process.env.CAPACITY_IDLE_SESSIONS ?? 200);
const ACTIVE = Number(process.env.CAPACITY_ACTIVE_SESSIONS ?? 10);
const PHASE_S = Number(process.env.CAPACITY_PHASE_S ?? 30);

function cluster(...args: string[]): string {
  const result = Bun.spawnSync(["bash", join(ROOT, "scripts/cluster.sh"), ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`scripts/cluster.sh ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.toString();
}

interface Phase {
  name: string;
  sessions: number;
  cpuCores: number;
  rssMiB: number;
  load: [number, number, number];
}

async function measure(pid: number, name: string, sessions: number): Promise<Phase> {
  await Bun.sleep(3_000); // settle after opening the sessions
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let rssSum = 0;
  let samples = 0;
  while (performance.now() - t0 < PHASE_S * 1000) {
    await Bun.sleep(1_000);
    rssSum += rssKiB(pid);
    samples++;
  }
  const phase = { name, sessions, cpuCores: (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000), rssMiB: rssSum / samples / 1024, load: loadAverage() };
  console.error(`[capacity] ${name}: ${sessions} sessions, ${(phase.cpuCores * 1000).toFixed(0)} millicores, ${phase.rssMiB.toFixed(1)} MiB (load ${phase.load.join(" ")})`);
  return phase;
}

async function openSessions(count: number): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await TestClient.connect(`ws://127.0.0.1:${BASE + 9 + GATEWAY}/ws/stream`);
    client.send({ type: "start", data: { language: "en" } });
    await client.next("session_started");
    clients.push(client);
  }
  return clients;
}

async function main(): Promise<void> {
  const wasUp = Bun.spawnSync(["curl", "-sf", `http://127.0.0.1:${BASE}/ready`]).exitCode === 0;
  if (!wasUp) console.error(cluster("up"));
  try {
    const pid = Number(await Bun.file(join(process.env.CLUSTER_DIR ?? join(ROOT, ".run/cluster"), `gateway-${GATEWAY}.pid`)).text());
    const phases: Phase[] = [await measure(pid, "baseline", 0)];

    const idle = await openSessions(IDLE);
    phases.push(await measure(pid, "idle", IDLE));
    for (const client of idle) client.close();
    await Bun.sleep(2_000);

    const speech = pcmChunks(Float32Array.from([...speak("what is the capital of france"), ...silence(1500)]));
    const voice = await openSessions(ACTIVE);
    let streaming = true;
    const streams = voice.map(async (client, index) => {
      await Bun.sleep(index * 150); // not all in step
      const started = performance.now();
      for (let i = 0; streaming; i++) {
        client.send({ type: "audio", data: { audio_data: Buffer.from(speech[i % speech.length]!).toString("base64") } });
        const wait = started + (i + 1) * 20 - performance.now();
        if (wait > 0) await Bun.sleep(wait);
      }
    });
    phases.push(await measure(pid, "voice, streaming audio in real time", ACTIVE));
    streaming = false;
    await Promise.all(streams);
    const voiceReplies = voice.reduce((n, client) => n + client.all("response_complete").length, 0);
    for (const client of voice) client.close();
    await Bun.sleep(2_000);

    const text = await openSessions(ACTIVE);
    let talking = true;
    const turns = text.map(async (client, index) => {
      for (let turn = 0; talking; turn++) {
        client.send({ type: "text", data: { text: `question ${index}.${turn}` } });
        await Bun.sleep(2_000);
      }
    });
    phases.push(await measure(pid, "text, a turn every 2 s", ACTIVE));
    talking = false;
    await Promise.all(turns);
    const textReplies = text.reduce((n, client) => n + client.all("response_complete").length, 0);
    for (const client of text) client.close();

    const [baseline, idlePhase, voicePhase, textPhase] = phases as [Phase, Phase, Phase, Phase];
    // Above the baseline, divided among the phase's sessions. Memory freed by the previous phase may not
    // have been returned yet (garbage collection), so the active phases' memory is an upper bound.
    const per = (phase: Phase) => ({
      millicores: ((phase.cpuCores - baseline.cpuCores) * 1000) / phase.sessions,
      kib: ((phase.rssMiB - baseline.rssMiB) * 1024) / phase.sessions,
    });
    const idleCost = per(idlePhase);
    const result = {
      measuredAt: new Date().toISOString(),
      gateway: `gateway ${GATEWAY} of scripts/cluster.sh (Bun ${Bun.version}), sessions opened directly on it`,
      phaseSeconds: PHASE_S,
      phases,
      perSession: { idle: idleCost, voice: per(voicePhase), text: per(textPhase) },
      replies: { voice: voiceReplies, text: textReplies },
    };
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(join(ROOT, "bench/results/capacity.json"), `${JSON.stringify(result, null, 2)}\n`);
    const row = (phase: Phase) => `| ${phase.name} | ${phase.sessions} | ${(phase.cpuCores * 1000).toFixed(0)} | ${phase.rssMiB.toFixed(1)} | ${phase.load.join(" ")} |`;
    const md = [
      `# Gateway cost per session (\`bun run bench/capacity.ts\`, ${result.measuredAt})`,
      "",
      `${result.gateway}; each phase ${PHASE_S} s, CPU from /proc/<pid>/stat, memory the mean VmRSS. ${voiceReplies} voice and ${textReplies} text replies completed during the active phases.`,
      "",
      "| phase | sessions | gateway CPU (millicores) | gateway RSS (MiB) | load average |",
      "|---|---|---|---|---|",
      ...phases.map(row),
      "",
      "| per session | CPU (millicores) | memory (KiB) |",
      "|---|---|---|",
      `| idle | ${idleCost.millicores.toFixed(2)} | ${idleCost.kib.toFixed(0)} |`,
      `| voice, streaming audio | ${result.perSession.voice.millicores.toFixed(1)} | ${result.perSession.voice.kib.toFixed(0)} |`,
      `| text, a turn every 2 s | ${result.perSession.text.millicores.toFixed(1)} | ${result.perSession.text.kib.toFixed(0)} |`,
      "",
    ].join("\n");
    writeFileSync(join(ROOT, "bench/results/capacity.md"), md);
    console.log(md);
  } finally {
    if (!wasUp) console.error(cluster("down"));
  }
}

await main();
process.exit(0);
