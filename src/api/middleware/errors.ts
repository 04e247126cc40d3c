/**
 * The global error handler: a client's mistake is never a 500. Validation problems → 400 naming the
 * field; unknown ids → 404; conflicts → 409; storage away → 503; anything else → 500, logged with
 * the request id (the response carries the id, never the internals).
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import { AuthError } from "../auth/errors.ts";
import { ConflictError, InvalidCursorError, NotFoundError, StorageUnavailableError } from "../../storage/errors.ts";
import type { RequestVariables } from "./request-context.ts";

export interface FieldProblem {
  field: string;
  problem: string;
}

/** Thrown by validators for bad client input; becomes a 400. */
export class RequestValidationError extends Error {
  override readonly name = "RequestValidationError";
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map(({ field, problem }) => `${field}: ${problem}`).join("; "));
  }
}

export function problemsFromZod(error: ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return { field: issue.keys.join(", "), problem: "unknown field" };
    return { field: issue.path.map(String).join(".") || "(input)", problem: issue.message };
  });
}

export function badRequest(c: Context, problems: FieldProblem[]): Response {
  const message = problems.map(({ field, problem }) => `${field}: ${problem}`).join("; ");
  return c.json({ error: "invalid_request", message, problems }, 400);
}

export const handleError: ErrorHandler<{ Variables: RequestVariables }> = (error, c) => {
  if (error instanceof AuthError) {
    if (error.status === 401) c.header("WWW-Authenticate", 'Bearer realm="morgan"');
    return c.json({ error: error.code, message: error.message }, error.status);
  }
  if (error instanceof RequestValidationError) return badRequest(c, error.problems);
  if (error instanceof ZodError) return badRequest(c, problemsFromZod(error));
  if (error instanceof InvalidCursorError) return badRequest(c, [{ field: "cursor", problem: error.message }]);
  // JSON.parse of a request body (c.req.json()) throws SyntaxError: the client sent broken JSON.
  if (error instanceof SyntaxError && /JSON/i.test(error.message)) return badRequest(c, [{ field: "(body)", problem: "not valid JSON" }]);
  if (error instanceof NotFoundError) return c.json({ error: "not_found", message: error.message }, 404);
  if (error instanceof ConflictError) return c.json({ error: "conflict", message: error.message }, 409);
  if (error instanceof StorageUnavailableError) {
    c.header("Retry-After", "2");
    return c.json({ error: "unavailable", message: error.message }, 503);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json({ error: "invalid_request", message: error.message || "bad request" }, error.status);
  }
  const requestId = c.get("requestId");
  c.get("log")?.error({ err: error, method: c.req.method, path: c.req.path }, "unhandled error");
  return c.json({ error: "internal_error", message: "internal error", requestId }, 500);
};
