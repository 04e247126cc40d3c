/**
 * Morgan's entry point: load config, open storage (migrations run there), serve HTTP/WebSocket on
 * server.port, and shut down gracefully on SIGTERM/SIGINT: stop accepting, let in-flight work
 * finish (shutdown hooks), write queued writes if PostgreSQL answers, close pools, exit 0.
 */
import type { Server, WebSocketHandler } from "bun";
import { TritonClient } from "@triton-client";
import { type AppExtensions, createApp, Lifecycle, type Services, withTimeout } from "./api/app.ts";
import { voiceExtension } from "./api/voice.ts";
import { ConfigError, loadConfig, redactConfig } from "./config/index.ts";
import type { Config } from "./config/schema.ts";
import { createLogger, setRootLogger } from "./logging/index.ts";
import { openStorage } from "./storage/index.ts";

/** What the voice pipeline plugs in once Services exist: its routes and, if it has one, its own WebSocket handler. */
export interface PipelineExtension extends AppExtensions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  websocket?: WebSocketHandler<any>;
}

export interface StartOptions {
  config?: Config;
  probeTriton?: () => Promise<boolean>;
  /** Builds the pipeline's routes from Services; register its shutdown work with services.lifecycle.onShutdown. */
  extend?: (services: Services) => PipelineExtension | Promise<PipelineExtension>;
}

export interface RunningMorgan {
  server: Server<unknown>;
  services: Services;
  /** Idempotent; resolves true when everything closed cleanly. */
  shutdown(reason: string): Promise<boolean>;
}

export async function startMorgan(options: StartOptions = {}): Promise<RunningMorgan> {
  const config = options.config ?? loadConfig();
  const logger = createLogger(config.log);
  setRootLogger(logger);
  logger.info({ config: redactConfig(config) }, "configuration loaded");

  const storage = await openStorage(config, logger);
  const lifecycle = new Lifecycle(logger);
  const services: Services = { config, logger, storage, lifecycle, probeTriton: options.probeTriton };
  const extension = (await options.extend?.(services)) ?? {};
  const { app } = createApp(services, extension);
  const listen = { hostname: config.server.host, port: config.server.port, fetch: app.fetch };
  // The pipeline brings its own Bun WebSocket handler (src/api/ws/routes.ts).
  const server: Server<unknown> = extension.websocket
    ? Bun.serve({ ...listen, websocket: extension.websocket })
    : Bun.serve(listen);
  logger.info({ url: server.url.toString(), database: storage.database.mode, cache: storage.cache.mode }, "morgan listening");

  let stopping: Promise<boolean> | null = null;
  const shutdown = (reason: string) => (stopping ??= stopGracefully(reason, server, services));
  return { server, services, shutdown };
}

async function stopGracefully(reason: string, server: Server<unknown>, services: Services): Promise<boolean> {
  const { logger, lifecycle, storage, config } = services;
  const budgetMs = config.server.shutdownTimeoutMs;
  logger.info({ reason }, "shutting down");
  lifecycle.beginShutdown();
  // Stop listening now; Bun keeps serving the requests already in flight.
  void server.stop(false);
  let clean = await lifecycle.runHooks(budgetMs);
  try {
    await withTimeout(requestsFinished(server), budgetMs, "in-flight requests");
  } catch (error) {
    clean = false;
    logger.warn({ err: error, pendingRequests: server.pendingRequests }, "abandoning requests still in flight");
  }
  // Idle keep-alive connections would otherwise hold the process until their timeout.
  await server.stop(true);
  try {
    await withTimeout(storage.close(), budgetMs, "storage close");
  } catch (error) {
    clean = false;
    logger.error({ err: error }, "storage did not close cleanly");
  }
  logger.info({ clean }, "stopped");
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  return clean;
}

async function requestsFinished(server: Server<unknown>): Promise<void> {
  while (server.pendingRequests > 0) await Bun.sleep(10);
}

async function runFromCommandLine(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const triton = new TritonClient({ url: config.triton.url, keepaliveMs: config.triton.keepaliveMs });
  const morgan = await startMorgan({
    config,
    probeTriton: () => triton.serverReady({ deadlineMs: config.triton.timeouts.healthMs }),
    extend: (services) => voiceExtension(services, triton),
  });
  const onSignal = (signal: string) => {
    void morgan.shutdown(signal).then((clean) => process.exit(clean ? 0 : 1));
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
}

if (import.meta.main) await runFromCommandLine();
