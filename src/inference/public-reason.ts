/**
 * What a client is told when a model request fails: the kind of failure, never the internals
 * (addresses, ports, driver messages such as `connect ECONNREFUSED 127.0.0.1:8111`), which stay in
 * the server log. Used by the voice pipeline and the HTTP inference routes alike.
 */
export function publicReason(error: unknown): string {
  // Errors written for clients (the Triton pool's: no model server available, one lost mid-reply) say so.
  const written = (error as { publicMessage?: unknown } | null)?.publicMessage;
  if (typeof written === "string") return written;
  const text = error instanceof Error ? `${error.name} ${error.message} ${String((error as { code?: unknown }).code ?? "")}` : String(error);
  if (/UNAVAILABLE|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|No connection established/i.test(text)) {
    return "the inference server is unavailable; try again shortly (details are in the server log)";
  }
  if (/DEADLINE_EXCEEDED|timed? ?out|timeout/i.test(text)) return "the model did not answer in time; try again (details are in the server log)";
  if (/RESOURCE_EXHAUSTED/i.test(text)) return "the inference server is overloaded; try again shortly (details are in the server log)";
  return "the model failed to answer (details are in the server log)";
}

