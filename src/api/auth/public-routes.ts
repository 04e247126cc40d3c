/**
 * The only routes answered without credentials: probes for load balancers and orchestrators, the
 * web page and its assets (it fetches its own token), and the API documents. Everything else —
 * including any route added later — requires credentials.
 */
const PUBLIC_PATHS = new Set(["/live", "/ready", "/health", "/", "/openapi.json", "/asyncapi.json"]);
const PUBLIC_PREFIXES = ["/assets/"];

export function isPublicRoute(method: string, path: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return PUBLIC_PATHS.has(path) || PUBLIC_PREFIXES.some((prefix) => path.startsWith(prefix));
}
