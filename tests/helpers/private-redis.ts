/** A redis-server of the test's own on a spare port, so stopping it leaves the shared one alone. */
import type { Subprocess } from "bun";
import { sparePort, waitFor } from "./services.ts";

export class PrivateRedis {
  readonly port = sparePort();
  #process: Subprocess | null = null;

  constructor(private readonly extraArgs: string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    this.#process = Bun.spawn(["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.extraArgs], {
      stdout: "ignore",
      stderr: "pipe",
    });
    await waitFor(() => this.#answers(), 10_000, `private redis-server on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const process = this.#process;
    if (!process) return;
    this.#process = null;
    process.kill("SIGKILL");
    await process.exited;
  }

  async #answers(): Promise<boolean> {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port: this.port, socket: { data() {} } });
      socket.end();
      return true;
    } catch {
      return false;
    }
  }
}
