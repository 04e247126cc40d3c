/** An in-process Morgan app over real storage, driven with app.request() (no socket needed). */
import { createApp, Lifecycle, type Services } from "../../src/api/app.ts";
import { startTelemetry } from "../../src/telemetry/index.ts";
import { silentLogger } from "./config.ts";
import { openTestStorage, type TestStorage, type TestStorageOptions } from "./storage.ts";

export interface TestApp extends TestStorage {
  services: Services;
  request(path: string, init?: RequestInit): Promise<Response>;
}

export async function openTestApp(options: TestStorageOptions & { probeTriton?: () => Promise<boolean> }): Promise<TestApp> {
  const context = await openTestStorage(options);
  const logger = silentLogger();
  const services: Services = {
    config: context.config,
    logger,
    storage: context.storage,
    lifecycle: new Lifecycle(logger),
    telemetry: startTelemetry(context.config.telemetry, logger, "test"),
    probeTriton: options.probeTriton,
  };
  const { app } = createApp(services);
  return { ...context, services, request: async (path, init) => app.request(path, init) };
}
