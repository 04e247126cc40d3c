/**
 * What route modules are built from: the Services of a running Morgan and the Hono types. Routes
 * import this module, app.ts imports the routes, so neither imports the other.
 */
import type { WebSocketHandler } from "bun";
import type { Hono } from "hono";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { ModelRepository } from "../inference/model-repository/repository.ts";
import type { EndpointStatus } from "../inference/triton/index.ts";
import type { Storage } from "../storage/index.ts";
import type { Telemetry } from "../telemetry/index.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import type { AuthVariables } from "./auth/middleware.ts";
import type { RequestVariables } from "./middleware/request-context.ts";

export interface Services {
  config: Config;
  logger: Logger;
  storage: Storage;
  lifecycle: Lifecycle;
  telemetry: Telemetry;
  /** Triton readiness over gRPC; /health reports "unknown" when absent. */
  probeTriton?: () => Promise<boolean>;
  /** Each Triton endpoint's health as last probed (several with a TRITON_URL list); /ready needs one healthy. */
  tritonEndpoints?: () => EndpointStatus[];
  /** Triton's model repository; the admin API (/v1/admin/models) is served when present. */
  models?: ModelRepository;
}

export type AppEnv = { Variables: RequestVariables & AuthVariables };
export type AppHono = Hono<AppEnv>;

export interface RouteContext {
  services: Services;
  /** Turns credentials into Principals; routes use it for scope checks and client tokens. */
  auth: Authenticator;
}

/** Route groups built elsewhere (e.g. the pipeline's WebSocket endpoints), mounted at "/". */
export interface AppExtensions {
  // Any: mounted groups may declare their own Bindings (e.g. Bun's server as c.env).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes?: Hono<any>[];
}

/** What the voice pipeline plugs in once Services exist: its routes and, if it has one, its own WebSocket handler. */
export interface PipelineExtension extends AppExtensions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  websocket?: WebSocketHandler<any>;
}
