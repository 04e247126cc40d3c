/**
 * A tritonserver of the test's own (scripts/triton/start.sh on spare ports) serving copies of some
 * CPU models, so a test may unload, kill or hang it without disturbing the Triton the other tests
 * share. start.sh runs it under scripts/triton/supervise.py; `env` tunes the supervisor's probe.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sparePort } from "./services.ts";

const ROOT = join(import.meta.dir, "../..");

export class PrivateTriton {
  readonly #dir = mkdtempSync(join(tmpdir(), "morgan-private-triton-"));
  #env: Record<string, string> = {};
  grpcUrl = "";
  httpPort = 0;

  constructor(
    readonly models: string[],
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    for (const model of this.models) cpSync(join(ROOT, "triton-models/cpu", model), join(this.#dir, "repo", model), { recursive: true });
    // Beside the repository, as in triton-models/: model.py finds its shared helpers in ../lib, and
    // weights that no package ships (Smart Turn's) in ../weights.
    cpSync(join(ROOT, "triton-models/lib"), join(this.#dir, "lib"), { recursive: true });
    if (existsSync(join(ROOT, "triton-models/weights"))) symlinkSync(join(ROOT, "triton-models/weights"), join(this.#dir, "weights"));
    try {
      await this.#startOnSparePorts();
    } catch (error) {
      // Another process may take a port in the seconds the models need to load: try new ones once.
      if (!String(error).includes("already in use")) throw error;
      await this.#startOnSparePorts();
    }
  }

  async stop(): Promise<void> {
    try {
      await this.stopServer();
    } finally {
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }

  /** scripts/triton/stop.sh alone, keeping the run directory to inspect. */
  stopServer(): Promise<void> {
    return this.#script("stop.sh");
  }

  /** The run directory: pid files and the log. */
  get runDir(): string {
    return join(this.#dir, "run");
  }

  /** The running tritonserver's pid (the supervisor rewrites it on every restart). */
  serverPid(): number {
    return Number(readFileSync(join(this.runDir, "triton.pid"), "utf8").trim());
  }

  /** The server's log, with the supervisor's lines (`supervise.py: ...`) among Triton's. */
  log(): string {
    return readFileSync(join(this.runDir, "triton.log"), "utf8");
  }

  /** Whether the server and every model are ready (the supervisor has restarted it, say). */
  async ready(): Promise<boolean> {
    const paths = ["/v2/health/ready", ...this.models.map((m) => `/v2/models/${m}/ready`)];
    try {
      for (const path of paths) {
        const response = await fetch(`http://127.0.0.1:${this.httpPort}${path}`, { signal: AbortSignal.timeout(1000) });
        if (!response.ok) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  async #startOnSparePorts(): Promise<void> {
    const [http, grpc, metrics] = [sparePort(), sparePort(), sparePort()];
    this.grpcUrl = `127.0.0.1:${grpc}`;
    this.httpPort = http;
    this.#env = {
      ...this.extraEnv,
      TRITON_RUN_DIR: this.runDir,
      TRITON_MODEL_REPO: join(this.#dir, "repo"),
      TRITON_MODELS: this.models.join(" "),
      TRITON_HTTP_PORT: String(http),
      TRITON_GRPC_PORT: String(grpc),
      TRITON_METRICS_PORT: String(metrics),
      TRITON_METRICS: "0",
    };
    await this.#script("start.sh");
  }

  async #script(name: string): Promise<void> {
    const child = Bun.spawn(["bash", join(ROOT, "scripts/triton", name)], { env: { ...process.env, ...this.#env }, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
    if (code !== 0) throw new Error(`scripts/triton/${name} failed (${code}):\n${out}\n${err}`);
  }
}
