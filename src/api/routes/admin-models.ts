/**
 * The model repository for operators, the same functions as `bun run models` through the same
 * implementation (src/inference/model-repository/repository.ts):
 *
 *   GET  /v1/admin/models                      models, state, role, Triton's statistics
 *   POST /v1/admin/models/:name/load|unload|reload   (?timeout_s= bounds the wait)
 *   GET  /v1/admin/models/validate             what Triton serves, against the tensor contract
 *
 * A model that does not finish within the timeout is answered 504 `model_stuck`, naming its state
 * and what keeps it there. Served only when Morgan has a Triton client (src/main.ts).
 */
import { TritonError } from "@triton-client";
import type { Context } from "hono";
import { z } from "zod";
import { ModelRepositoryError } from "../../inference/model-repository/repository.ts";
import type { AppHono, RouteContext } from "../context.ts";
import { requireScope } from "../auth/middleware.ts";
import { integerParam, parseInput } from "../middleware/validate.ts";

const actionQuery = z.strictObject({ timeout_s: integerParam(1, 3600, "seconds").optional() });
const ACTIONS = ["load", "unload", "reload"] as const;

export function registerAdminModelRoutes(app: AppHono, { services, auth }: RouteContext): void {
  const models = services.models;
  if (!models) return;
  const guard = requireScope("admin", auth);

  app.get("/v1/admin/models", guard, (c) => answer(c, async () => ({ models: await models.list() })));

  app.get("/v1/admin/models/validate", guard, (c) =>
    answer(c, async () => {
      const problems = await models.validate();
      return { ok: problems.length === 0, problems };
    }),
  );

  for (const action of ACTIONS) {
    app.post(`/v1/admin/models/:name/${action}`, guard, (c) => {
      const { timeout_s } = parseInput(actionQuery, c.req.query());
      const name = c.req.param("name");
      c.get("log").info({ model: name, action }, "model repository change requested");
      return answer(c, () => models.change(action, name, timeout_s === undefined ? undefined : timeout_s * 1000));
    });
  }
}

async function answer(c: Context, work: () => Promise<object>): Promise<Response> {
  try {
    return c.json(await work());
  } catch (error) {
    if (error instanceof ModelRepositoryError) return repositoryError(c, error);
    if (error instanceof TritonError) return c.json({ error: "triton_unavailable", message: error.message }, 503);
    throw error;
  }
}

function repositoryError(c: Context, error: ModelRepositoryError): Response {
  switch (error.kind) {
    case "invalid_name":
      return c.json({ error: "invalid_request", message: error.message, problems: [{ field: "name", problem: error.message }] }, 400);
    case "not_found":
      return c.json({ error: "not_found", message: error.message }, 404);
    case "stuck":
      return c.json({ error: "model_stuck", message: error.message, model: error.entry }, 504);
    case "failed":
      return c.json({ error: "model_control_failed", message: error.message, model: error.entry }, 502);
  }
}
