/**
 * Morgan's entry point: load config, open storage (migrations run there), serve HTTP/WebSocket on
 * server.port, and shut down gracefully on SIGTERM/SIGINT: stop accepting, let in-flight work
 * finish (shutdown hooks), write queued writes if PostgreSQL answers, close pools, exit 0.
 */
import type { Server } from "bun";
import packageJson from "../package.json" with { type: "json" };
import { createApp, Lifecycle, type PipelineExtension, type Services, withTimeout } from "./api/app.ts";
import { metricsPortApp } from "./api/routes/metrics.ts";
import { voiceExtension } from "./api/voice.ts";
import { ConfigError, loadConfig, redactConfig } from "./config/index.ts";
import { tritonUrls } from "./config/sections/triton.ts";
import type { Config } from "./config/schema.ts";
import { ModelRepository } from "./inference/model-repository/repository.ts";
import { DEFAULT_MODEL_NAMES } from "./inference/model-repository/validate.ts";
import { modelServers } from "./inference/triton/index.ts";
import { createLogger } from "./logging/index.ts";
import { openStorage } from "./storage/index.ts";
import { startTelemetry } from "./telemetry/index.ts";

export interface StartOptions {
  config?: Config;
  probeTriton?: () => Promise<boolean>;
  /** Each Triton endpoint's health as last probed; /ready needs one healthy. */
  tritonEndpoints?: Services["tritonEndpoints"];
  /** Serves the admin API for Triton's model repository. */
  models?: ModelRepository;
  /** Builds the pipeline's routes from Services; register its shutdown work with services.lifecycle.onShutdown. */
  extend?: (services: Services) => PipelineExtension | Promise<PipelineExtension>;
}

export interface RunningMorgan {
  server: Server<unknown>;
  /** The routes it serves (tests enumerate them: tests/security/auth-matrix.test.ts). */
  app: { routes: readonly { method: string; path: string }[] };
  /** The separate metrics port (telemetry.metrics.port), when configured. */
  metricsServer?: Server<unknown>;
  services: Services;
  /** Idempotent; resolves true when everything closed cleanly. */
  shutdown(reason: string): Promise<boolean>;
}

export async function startMorgan(options: StartOptions = {}): Promise<RunningMorgan> {
  const config = options.config ?? loadConfig();
  const logger = createLogger(config.log);
  logger.info({ config: redactConfig(config) }, "configuration loaded");

  const telemetry = startTelemetry(config.telemetry, logger, packageJson.version);
  const storage = await openStorage(config, logger, telemetry.observers);
  const lifecycle = new Lifecycle(logger);
  const services: Services = { config, logger, storage, lifecycle, telemetry, probeTriton: options.probeTriton, tritonEndpoints: options.tritonEndpoints, models: options.models };
  const extension = (await options.extend?.(services)) ?? {};
  const { app } = createApp(services, extension);
  const listen = { hostname: config.server.host, port: config.server.port, fetch: app.fetch };
  // The pipeline brings its own Bun WebSocket handler (src/api/ws/routes.ts).
  const server: Server<unknown> = extension.websocket
    ? Bun.serve({ ...listen, websocket: extension.websocket })
    : Bun.serve(listen);
  const metricsPort = config.telemetry.metrics.port;
  const metricsServer =
    telemetry.metrics && metricsPort > 0
      ? Bun.serve({ hostname: config.server.host, port: metricsPort, fetch: metricsPortApp(telemetry.metrics).fetch })
      : undefined;
  logger.info(
    { url: server.url.toString(), metrics_url: metricsServer?.url.toString(), database: storage.database.mode, cache: storage.cache.mode },
    "morgan listening",
  );

  let stopping: Promise<boolean> | null = null;
  const shutdown = (reason: string) => (stopping ??= stopGracefully(reason, server, services, metricsServer));
  return { server, app, metricsServer, services, shutdown };
}

async function stopGracefully(reason: string, server: Server<unknown>, services: Services, metricsServer?: Server<unknown>): Promise<boolean> {
  const { logger, lifecycle, storage, config, telemetry } = services;
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
    logger.warn({ err: error, pending_requests: server.pendingRequests }, "abandoning requests still in flight");
  }
  // Idle keep-alive connections would otherwise hold the process until their timeout.
  await server.stop(true);
  try {
    await withTimeout(storage.close(), budgetMs, "storage close");
  } catch (error) {
    clean = false;
    logger.error({ err: error }, "storage did not close cleanly");
  }
  await metricsServer?.stop(true);
  await withTimeout(telemetry.shutdown(), budgetMs, "exporting the last spans").catch((error: unknown) => {
    logger.warn({ err: error }, "spans still buffered were not exported");
  });
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
  const triton = modelServers(tritonUrls(config.triton.url), {
    keepaliveMs: config.triton.keepaliveMs,
    healthIntervalMs: config.triton.healthIntervalMs,
    healthTimeoutMs: config.triton.timeouts.healthMs,
  });
  // The first round of probes, so that /ready and the first requests know which endpoints answer.
  await triton.start();
  let morgan: RunningMorgan;
  try {
    morgan = await startMorgan({
      config,
      probeTriton: () => triton.probeAll().then(() => triton.anyHealthy()),
      tritonEndpoints: () => triton.status(),
      // Model administration acts on the first endpoint (docs/triton.md: several Tritons).
      models: new ModelRepository(triton.primary, { names: { ...DEFAULT_MODEL_NAMES, ...config.triton.models }, timeoutMs: config.triton.timeouts.modelControlMs }),
      extend: (services) => voiceExtension(services, triton),
    });
  } catch (error) {
    // Settings read at start (API key files, JWKS files) are refused like the rest of the configuration.
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const onSignal = (signal: string) => {
    void morgan.shutdown(signal).then((clean) => process.exit(clean ? 0 : 1));
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
}

if (import.meta.main) await runFromCommandLine();
