/**
 * What a benchmark run needs, started on demand and torn down afterwards: PostgreSQL and Redis
 * (scripts/services.sh when they do not answer), a private Triton on spare ports serving the CPU
 * models plus the bench-only instant models, and Morgan servers on fresh databases (the same
 * spawner the end-to-end tests use).
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { REDIS_URL, type RunningServer, startServer } from "../../tests/pipeline/support/server";
import { childPids } from "./procstat";

export const ROOT = join(import.meta.dir, "../..");

export interface TritonPorts {
  http: number;
  grpc: number;
  metrics: number;
}

/** The models the bench Triton serves: Morgan's CPU repository and the bench's instant models. */
const CPU_MODELS = ["vad", "stt", "llm", "tts", "turn"];
const BENCH_MODELS = ["instant-llm", "instant-tts"];

function portAnswers(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function run(command: string[], env: Record<string, string> = {}): { ok: boolean; output: string } {
  const result = Bun.spawnSync(command, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}

/** PostgreSQL and Redis as the tests use them; starts them with scripts/services.sh when they are down. */
export async function ensureDataServices(log: (line: string) => void): Promise<void> {
  const redisPort = Number(new URL(REDIS_URL).port || 6379);
  if ((await portAnswers(5432)) && (await portAnswers(redisPort))) return;
  log("PostgreSQL or Redis not answering: scripts/services.sh start");
  const started = run(["bash", "scripts/services.sh", "start"]);
  if (!started.ok) throw new Error(`scripts/services.sh start failed:\n${started.output}`);
}

export class BenchTriton {
  private started = false;

  constructor(
    readonly ports: TritonPorts,
    private readonly runDir: string,
    private readonly repository: string,
  ) {}

  get grpcUrl(): string {
    return `127.0.0.1:${this.ports.grpc}`;
  }

  private env(): Record<string, string> {
    return {
      TRITON_RUN_DIR: this.runDir,
      TRITON_MODEL_REPO: this.repository,
      TRITON_HTTP_PORT: String(this.ports.http),
      TRITON_GRPC_PORT: String(this.ports.grpc),
      TRITON_METRICS_PORT: String(this.ports.metrics),
      TRITON_MODELS: [...CPU_MODELS, ...BENCH_MODELS].join(" "),
    };
  }

  /** The bench repository: links to the CPU models and the bench models, rebuilt on every start. */
  private assembleRepository(): void {
    rmSync(this.repository, { recursive: true, force: true });
    mkdirSync(this.repository, { recursive: true });
    for (const model of CPU_MODELS) symlinkSync(join(ROOT, "triton-models/cpu", model), join(this.repository, model));
    for (const model of BENCH_MODELS) symlinkSync(join(ROOT, "bench/models", model), join(this.repository, model));
    // Relative weight paths in config.pbtxt name files beside the repository (triton-models/weights/).
    const weights = join(this.repository, "../weights");
    rmSync(weights, { force: true });
    symlinkSync(join(ROOT, "triton-models/weights"), weights);
  }

  /** start.sh is idempotent: a bench Triton already ready on these ports is reused (and left running). */
  async start(log: (line: string) => void): Promise<void> {
    const alreadyUp = await portAnswers(this.ports.http);
    if (!alreadyUp) this.assembleRepository();
    const result = run(["bash", "scripts/triton/start.sh"], this.env());
    if (!result.ok) throw new Error(`bench Triton did not start:\n${result.output}`);
    log(result.output.trim());
    this.started = !alreadyUp;
  }

  stop(log: (line: string) => void): void {
    if (!this.started) return;
    const result = run(["bash", "scripts/triton/stop.sh"], this.env());
    log(result.output.trim());
  }

  /** The tritonserver's pid, for its CPU use beside Morgan's. */
  pid(): number | undefined {
    try {
      return Number(readFileSync(join(this.runDir, "triton.pid"), "utf8").trim());
    } catch {
      return undefined;
    }
  }
}

/** Quotas lifted out of a bench's way (each scenario may set its own in `env`). */
export const BENCH_QUOTAS: Record<string, string> = {
  MORGAN_QUOTA_CONNECTIONS_PER_IP: "100000",
  MORGAN_QUOTA_SESSIONS_PER_USER: "100000",
  MORGAN_QUOTA_TURNS_PER_SECOND: "1000",
  MORGAN_QUOTA_TURN_BURST: "1000",
  MORGAN_QUOTA_MAX_QUEUED_MESSAGES: "100000",
  MORGAN_QUOTA_MAX_PENDING_WRITES: "10000",
  MORGAN_QUOTA_HTTP_REQUESTS_PER_MINUTE: "10000000",
};

export interface MorganServer extends RunningServer {
  pid: number;
}

/**
 * A Morgan server on a fresh database. `profileDir` runs it with Bun's sampling CPU profiler
 * (written as .cpuprofile and Markdown when it exits).
 */
export async function startMorgan(options: { tritonUrl: string; env?: Record<string, string>; profileDir?: string }): Promise<MorganServer> {
  const before = new Set(childPids("src/main.ts"));
  // Benches measure capacity, not the quotas that shed one client's flood (bench/scenarios/flood.ts
  // measures those with the defaults): one bench client opens 1,000 sessions and sends turns back to back.
  const env: Record<string, string> = { TRITON_URL: options.tritonUrl, ...BENCH_QUOTAS, ...options.env };
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    env.BUN_OPTIONS = `--cpu-prof --cpu-prof-md --cpu-prof-dir=${options.profileDir}`;
  }
  const server = await startServer({ env });
  const pid = childPids("src/main.ts").find((candidate) => !before.has(candidate));
  if (pid === undefined) {
    await server.stop();
    throw new Error("could not find the Morgan server's pid among this process's children");
  }
  return Object.assign(server, { pid });
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  bun: string;
  gpu: string;
}

export function machine(): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  return {
    cpu: model,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    bun: Bun.version,
    gpu: "none (CPU models)",
  };
}
