/**
 * Load generators run as separate processes (never inside the server, and not in the harness whose
 * timers would skew them): `bun bench/load/worker.ts` with its job as JSON in BENCH_JOB. A worker
 * talks in JSON lines — events on stdout, commands on stdin — and is killed if it outlives its
 * time limit, so a wedged run still ends.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Job, WorkerEvent } from "../load/protocol";

const WORKER = join(import.meta.dir, "../load/worker.ts");

export class LoadWorker {
  private readonly child: Subprocess<"pipe", "pipe", "pipe">;
  private readonly events: WorkerEvent[] = [];
  private waiters: (() => void)[] = [];
  private stderr = "";
  private exited = false;
  private readonly killTimer: Timer;

  constructor(readonly job: Job, limitS: number) {
    const child = Bun.spawn(["bun", WORKER], {
      env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.child = child;
    const eventsRead = this.readEvents();
    void (async () => {
      for await (const chunk of child.stderr) this.stderr = (this.stderr + new TextDecoder().decode(chunk)).slice(-8000);
    })();
    // Exited only once stdout is drained too, or the last event (the result) could be missed.
    void Promise.all([child.exited, eventsRead]).then(() => {
      this.exited = true;
      this.wake();
    });
    this.killTimer = setTimeout(() => this.child.kill("SIGKILL"), limitS * 1000);
  }

  private async readEvents(): Promise<void> {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of this.child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line.startsWith("{")) this.events.push(JSON.parse(line) as WorkerEvent);
        newline = buffered.indexOf("\n");
      }
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  command(line: string): void {
    this.child.stdin.write(`${line}\n`);
    this.child.stdin.flush();
  }

  /** The next event named `name` not yet taken; fails if the worker exits or `timeoutMs` passes. */
  async next<T extends WorkerEvent["event"]>(name: T, timeoutMs: number): Promise<Extract<WorkerEvent, { event: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex((e) => e.event === name);
      if (index >= 0) return this.events.splice(index, 1)[0] as Extract<WorkerEvent, { event: T }>;
      const failure = this.events.find((e) => e.event === "failed");
      if (failure && failure.event === "failed") throw new Error(`load worker ${this.job.kind} failed: ${failure.message}`);
      if (this.exited) throw new Error(`load worker ${this.job.kind} exited (${this.child.exitCode}) before "${name}":\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`load worker ${this.job.kind}: no "${name}" within ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async finish(): Promise<void> {
    await this.child.exited;
    clearTimeout(this.killTimer);
  }

  kill(): void {
    clearTimeout(this.killTimer);
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

export interface WorkerResults<R> {
  results: R[];
  /** CPU seconds the load generators used, all together. */
  clientCpuS: number;
}

/** Runs jobs in parallel worker processes and returns each one's result. */
export async function runWorkers<R>(jobs: Job[], limitS: number): Promise<WorkerResults<R>> {
  const workers = jobs.map((job) => new LoadWorker(job, limitS));
  try {
    const results = await Promise.all(workers.map((w) => w.next("result", limitS * 1000)));
    await Promise.all(workers.map((w) => w.finish()));
    return { results: results.map((r) => r.data as R), clientCpuS: results.reduce((s, r) => s + r.cpuS, 0) };
  } finally {
    for (const worker of workers) worker.kill();
  }
}
