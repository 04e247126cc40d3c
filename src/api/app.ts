/**
 * Builds the Hono app from the Services it needs. Route modules register themselves, one line each
 * below; extensions (the voice pipeline's WebSocket and model routes) are mounted after them, and
 * main.ts hands the pipeline's own Bun WebSocket handler to Bun.serve.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { Storage } from "../storage/index.ts";
import { handleError } from "./middleware/errors.ts";
import { requestContext, type RequestVariables } from "./middleware/request-context.ts";
import { registerConversationRoutes } from "./routes/conversations.ts";
import { registerHealthRoutes } from "./routes/health.ts";

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

export interface Services {
  config: Config;
  logger: Logger;
  storage: Storage;
  lifecycle: Lifecycle;
  /** Triton readiness over gRPC; /health reports "unknown" when absent. */
  probeTriton?: () => Promise<boolean>;
}

export type AppEnv = { Variables: RequestVariables };
export type AppHono = Hono<AppEnv>;

export interface RouteContext {
  services: Services;
}

/** Route groups built elsewhere (e.g. the pipeline's WebSocket endpoints), mounted at "/". */
export interface AppExtensions {
  // Any: mounted groups may declare their own Bindings (e.g. Bun's server as c.env).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes?: Hono<any>[];
}

export function createApp(services: Services, extensions: AppExtensions = {}) {
  const app: AppHono = new Hono<AppEnv>();
  const context: RouteContext = { services };

  app.use("*", requestContext(services.logger));
  app.use(
    "*",
    bodyLimit({
      maxSize: services.config.server.bodyLimitBytes,
      onError: (c) => c.json({ error: "payload_too_large", message: `body exceeds ${services.config.server.bodyLimitBytes} bytes` }, 413),
    }),
  );
  app.onError(handleError);
  app.notFound((c) => c.json({ error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  registerHealthRoutes(app, context);
  registerConversationRoutes(app, context);
  for (const routes of extensions.routes ?? []) app.route("/", routes);

  return { app };
}
