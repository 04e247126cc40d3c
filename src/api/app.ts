/**
 * Builds the Hono app from the Services it needs. Route modules register themselves, one line each
 * below; extensions (the voice pipeline's WebSocket and model routes) are mounted after them, and
 * main.ts hands the pipeline's own Bun WebSocket handler to Bun.serve.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv, AppExtensions, AppHono, RouteContext, Services } from "./context.ts";
import { createAuthenticator } from "./auth/authenticator.ts";
import { authenticate, checkOrigin, corsForAllowedOrigins } from "./auth/middleware.ts";
import { httpRateLimit } from "./middleware/rate-limit.ts";
import { handleError } from "./middleware/errors.ts";
import { requestContext } from "./middleware/request-context.ts";
import { registerAdminModelRoutes } from "./routes/admin-models.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerConversationRoutes } from "./routes/conversations.ts";
import { registerDocRoutes } from "./routes/docs.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerMetricsRoutes } from "./routes/metrics.ts";
import { registerWebRoutes } from "./routes/web.ts";

export type { AppEnv, AppExtensions, AppHono, PipelineExtension, RouteContext, Services } from "./context.ts";
export { Lifecycle, type ShutdownHook, withTimeout } from "./lifecycle.ts";

export function createApp(services: Services, extensions: AppExtensions = {}) {
  const app: AppHono = new Hono<AppEnv>();
  const auth = createAuthenticator(services.config.auth);
  const context: RouteContext = { services, auth };

  if (services.telemetry.tracing) app.use("*", services.telemetry.tracing.http);
  app.use("*", requestContext(services.logger));
  app.use(
    "*",
    bodyLimit({
      maxSize: services.config.server.bodyLimitBytes,
      onError: (c) => c.json({ error: "payload_too_large", message: `body exceeds ${services.config.server.bodyLimitBytes} bytes` }, 413),
    }),
  );
  // Preflights are answered before credentials are asked for; then Origin, then the credential.
  app.use("*", corsForAllowedOrigins(services.config.auth.allowedOrigins));
  app.use("*", checkOrigin(services.config.auth.allowedOrigins));
  app.use("*", authenticate(auth));
  app.use("*", httpRateLimit(services.config.quotas.httpRequestsPerMinute));
  app.onError(handleError);
  app.notFound((c) => c.json({ error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  registerHealthRoutes(app, context);
  registerAuthRoutes(app, context);
  registerConversationRoutes(app, context);
  registerMetricsRoutes(app, context);
  registerAdminModelRoutes(app, context);
  registerDocRoutes(app);
  registerWebRoutes(app, context);
  for (const routes of extensions.routes ?? []) app.route("/", routes);

  return { app };
}
