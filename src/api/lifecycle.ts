/** Graceful shutdown: work registered by the parts of the server, run after it stops accepting. */
import type { Logger } from "pino";

export type ShutdownHook = () => Promise<void> | void;

/** Shutdown hooks, run (newest first) after the server stops accepting and before storage closes. */
export class Lifecycle {
  readonly #hooks: { name: string; hook: ShutdownHook }[] = [];
  #shuttingDown = false;

  constructor(private readonly logger: Logger) {}

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Registers work to finish or persist on SIGTERM/SIGINT (e.g. end sessions, flush transcripts). */
  onShutdown(name: string, hook: ShutdownHook): void {
    this.#hooks.push({ name, hook });
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Runs every hook, newest first; a failing or slow hook is logged and does not stop the others. */
  async runHooks(timeoutMs: number): Promise<boolean> {
    let allOk = true;
    for (const { name, hook } of [...this.#hooks].reverse()) {
      try {
        await withTimeout(Promise.resolve().then(hook), timeoutMs, `shutdown hook ${name}`);
      } catch (error) {
        allOk = false;
        this.logger.error({ err: error, hook: name }, "shutdown hook failed");
      }
    }
    return allOk;
  }
}

export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
