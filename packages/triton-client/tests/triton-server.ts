/**
 * Test helper: launches a real tritonserver on free ports with the fixture
 * model repository (tests/models), and can kill/restart it on the same ports.
 *
 * The server comes from the pytriton wheel (which ships the real binary):
 *   1. $TRITON_PYTHON_ENV, a Python env with nvidia-pytriton installed, or
 *   2. the project .venv made by scripts/triton/install.sh.
 * If neither exists the helper throws: Triton tests must fail, not skip.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
export const FIXTURE_MODELS = new URL("./models/", import.meta.url).pathname;

interface Distribution {
  serverRoot: string; // .../pytriton/tritonserver
  libDir: string; // .../nvidia_pytriton.libs
  envBin: string; // the env's bin/ (its python runs the Python-backend stub)
  pythonVersion: string; // "3.11"
}

function findDistribution(): Distribution {
  const candidates = [process.env.TRITON_PYTHON_ENV, join(REPO_ROOT, ".venv")].filter((dir): dir is string => !!dir);
  for (const env of candidates) {
    const libRoot = join(env, "lib");
    if (!existsSync(libRoot)) continue;
    for (const python of readdirSync(libRoot).filter((name) => /^python3\.\d+$/.test(name))) {
      const sitePackages = join(libRoot, python, "site-packages");
      const serverRoot = join(sitePackages, "pytriton", "tritonserver");
      if (existsSync(join(serverRoot, "bin", "tritonserver"))) {
        return {
          serverRoot,
          libDir: join(sitePackages, "nvidia_pytriton.libs"),
          envBin: join(env, "bin"),
          pythonVersion: python.replace("python", ""),
        };
      }
    }
  }
  throw new Error(
    `tritonserver not found (looked in ${candidates.join(", ")}). ` +
      "Run scripts/triton/install.sh, or set TRITON_PYTHON_ENV to a venv with `pip install nvidia-pytriton==0.7.0`.",
  );
}

/**
 * The Python backend looks for its stub next to libtriton_python.so, and the
 * wheel keeps one stub per Python version elsewhere; assemble a backend
 * directory with the stub matching the env's Python (what pytriton does too).
 */
function prepareBackends(dist: Distribution, workDir: string): string {
  const backends = join(workDir, "backends");
  const python = join(backends, "python");
  mkdirSync(python, { recursive: true });
  const source = join(dist.serverRoot, "backends", "python");
  copyFileSync(join(source, "libtriton_python.so"), join(python, "libtriton_python.so"));
  copyFileSync(join(source, "triton_python_backend_utils.py"), join(python, "triton_python_backend_utils.py"));
  copyFileSync(
    join(dist.serverRoot, "python_backend_stubs", dist.pythonVersion, "triton_python_backend_stub"),
    join(python, "triton_python_backend_stub"),
  );
  return backends;
}

/** Direct children of `pid` (tritonserver's Python-backend stubs), read from /proc. */
function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Format: "pid (comm) state ppid ..."; comm may contain spaces, so split after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // process exited while we looked
    }
  }
  return children;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TritonServerOptions {
  modelRepository?: string;
  extraArgs?: string[];
  /** How long to wait for /v2/health/ready. */
  startTimeoutMs?: number;
}

export class TritonServer {
  readonly grpcUrl: string;
  private process: Subprocess | undefined;
  private log = "";

  private constructor(
    private readonly dist: Distribution,
    private readonly workDir: string,
    private readonly backends: string,
    readonly grpcPort: number,
    readonly httpPort: number,
    private readonly metricsPort: number,
    private readonly options: TritonServerOptions,
  ) {
    this.grpcUrl = `127.0.0.1:${grpcPort}`;
  }

  static async start(options: TritonServerOptions = {}): Promise<TritonServer> {
    const dist = findDistribution();
    const workDir = mkdtempSync(join(tmpdir(), "triton-client-test-"));
    const server = new TritonServer(dist, workDir, prepareBackends(dist, workDir), await freePort(), await freePort(), await freePort(), options);
    await server.launch();
    return server;
  }

  /** Everything tritonserver printed so far (for failure messages). */
  get output(): string {
    return this.log;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  private async launch(): Promise<void> {
    const args = [
      join(this.dist.serverRoot, "bin", "tritonserver"),
      `--model-repository=${this.options.modelRepository ?? FIXTURE_MODELS}`,
      `--backend-directory=${this.backends}`,
      `--grpc-port=${this.grpcPort}`,
      `--http-port=${this.httpPort}`,
      `--metrics-port=${this.metricsPort}`,
      "--model-control-mode=explicit",
      "--load-model=*",
      "--exit-timeout-secs=3",
      "--log-verbose=0",
      // One shared-memory namespace per server so parallel servers never collide.
      `--backend-config=python,shm-region-prefix-name=${this.shmPrefix}`,
      // Accept the client's keep-alive pings on long-idle streams.
      "--grpc-keepalive-permit-without-calls=true",
      "--grpc-http2-max-pings-without-data=0",
      "--grpc-http2-min-recv-ping-interval-without-data=500",
      ...(this.options.extraArgs ?? []),
    ];
    const env = {
      ...process.env,
      LD_LIBRARY_PATH: [this.dist.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
      // The Python-backend stub embeds Python and finds its packages (numpy)
      // through the `python3` on PATH, so the env's bin must come first.
      PATH: `${this.dist.envBin}:${process.env.PATH ?? ""}`,
    };
    const child = Bun.spawn(args, { env, stdout: "pipe", stderr: "pipe", cwd: this.workDir });
    this.process = child;
    void this.collect(child.stdout);
    void this.collect(child.stderr);
    await this.waitUntilReady(child);
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.log += decoder.decode(chunk);
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
    }
  }

  private async waitUntilReady(child: Subprocess): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`tritonserver exited during startup (${child.exitCode ?? child.signalCode}):\n${this.log.slice(-4000)}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${this.httpPort}/v2/health/ready`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await Bun.sleep(100);
    }
    child.kill("SIGKILL");
    throw new Error(`tritonserver not ready within the startup timeout:\n${this.log.slice(-4000)}`);
  }

  /**
   * SIGKILL: the abrupt death a crashed or OOM-killed Triton would have. Its
   * Python-backend stub processes are killed too (they would otherwise outlive
   * it as orphans), and their shared-memory regions removed.
   */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    const stubs = childPids(child.pid);
    child.kill("SIGKILL");
    await child.exited;
    for (const pid of stubs) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.process = undefined;
    this.removeSharedMemory();
  }

  private get shmPrefix(): string {
    return `tct${process.pid}p${this.grpcPort}`;
  }

  private removeSharedMemory(): void {
    if (!existsSync("/dev/shm")) return;
    for (const name of readdirSync("/dev/shm")) {
      if (name.startsWith(this.shmPrefix)) rmSync(join("/dev/shm", name), { force: true });
    }
  }

  /** Starts again on the same ports (after kill()). */
  async restart(): Promise<void> {
    if (this.process) await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child) {
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(8_000).then(() => false)]);
      if (!exited) {
        child.kill("SIGKILL");
        await child.exited;
      }
      this.process = undefined;
    }
    this.removeSharedMemory();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
