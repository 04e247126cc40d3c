/**
 * A load-generator process (spawned by bench/lib/workers.ts): runs the job in BENCH_JOB, writes
 * events as JSON lines on stdout, and exits by itself when the job is done.
 */
import { flood } from "./jobs/flood";
import { restFlood } from "./jobs/rest";
import { fuzz, pingWatch, textFlood } from "./jobs/abuse";
import { holdSessions } from "./jobs/sessions";
import { storageConcurrency } from "./jobs/storage";
import { spokenSessions } from "./jobs/spoken";
import { llmDirect, llmWebSocket, ttsDirect, ttsServerSentEvents } from "./jobs/streams";
import { voiceTurns } from "./jobs/voice";
import type { Job, WorkerEvent } from "./protocol";

/** Resolves once the line is handed to the pipe: process.exit right after a plain write can cut a long line off. */
function emit(event: WorkerEvent): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify(event)}\n`, () => resolve()));
}

async function run(job: Job): Promise<unknown> {
  switch (job.kind) {
    case "llm-direct":
      return llmDirect(job);
    case "llm-ws":
      return llmWebSocket(job);
    case "tts-direct":
      return ttsDirect(job);
    case "tts-sse":
      return ttsServerSentEvents(job);
    case "voice-turns":
      return voiceTurns(job);
    case "spoken":
      return spokenSessions(job);
    case "hold-sessions":
      return holdSessions(job, emit);
    case "flood":
      return flood(job);
    case "rest-flood":
      return restFlood(job);
    case "storage":
      return storageConcurrency(job);
    case "text-flood":
      return textFlood(job);
    case "ping-watch":
      return pingWatch(job);
    case "fuzz":
      return fuzz(job);
  }
}

const job = JSON.parse(process.env.BENCH_JOB ?? "null") as Job | null;
if (!job) {
  console.error("worker.ts is started by the bench harness with BENCH_JOB set");
  process.exit(2);
}
try {
  // Boot and module loading are not load generation: count CPU from here.
  const before = process.cpuUsage();
  const data = await run(job);
  const { user, system } = process.cpuUsage(before);
  await emit({ event: "result", data, cpuS: (user + system) / 1e6 });
  process.exit(0);
} catch (error) {
  await emit({ event: "failed", message: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exit(1);
}
