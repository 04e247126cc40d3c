/**
 * A tritonserver of the test's own (scripts/triton/start.sh on spare ports) serving copies of some
 * CPU models, so a test may unload them without disturbing the Triton the other tests share.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sparePort } from "./services.ts";

const ROOT = join(import.meta.dir, "../..");

export class PrivateTriton {
  readonly #dir = mkdtempSync(join(tmpdir(), "morgan-private-triton-"));
  #env: Record<string, string> = {};
  grpcUrl = "";

  constructor(readonly models: string[]) {}

  async start(): Promise<void> {
    for (const model of this.models) cpSync(join(ROOT, "triton-models/cpu", model), join(this.#dir, "repo", model), { recursive: true });
    // Beside the repository, as in triton-models/: model.py finds its shared helpers in ../lib.
    cpSync(join(ROOT, "triton-models/lib"), join(this.#dir, "lib"), { recursive: true });
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
      await this.#script("stop.sh");
    } finally {
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }

  async #startOnSparePorts(): Promise<void> {
    const [http, grpc, metrics] = [sparePort(), sparePort(), sparePort()];
    this.grpcUrl = `127.0.0.1:${grpc}`;
    this.#env = {
      TRITON_RUN_DIR: join(this.#dir, "run"),
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
