/**
 * The web page at `/` and its assets at `/assets/…` (web/), built on first request and kept in
 * memory. With `web.tokenUrl` set the page fetches short-lived tokens from there.
 */
import { buildWebClient, bundleSizes, type WebBundle } from "../../../web/build.ts";
import type { AppHono, RouteContext } from "../context.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

export function registerWebRoutes(app: AppHono, { services }: RouteContext): void {
  const { web } = services.config;
  if (!web.enabled) return;
  const log = services.logger.child({ component: "web" });
  let bundle: Promise<WebBundle> | undefined;
  const load = () =>
    (bundle ??= buildWebClient().then(
      (built) => {
        log.info({ build_ms: Math.round(built.buildMs), files: bundleSizes(built) }, "web page built");
        return built;
      },
      (error) => {
        bundle = undefined;
        throw error;
      },
    ));
  const headers = { "content-security-policy": contentSecurityPolicy(web.tokenUrl), "x-content-type-options": "nosniff" };

  app.get("/", async (c) => {
    const { html } = await load();
    return c.html(withTokenUrl(html, web.tokenUrl ?? ""), 200, { ...headers, "cache-control": "no-cache" });
  });

  app.get("/assets/:name", async (c) => {
    const asset = (await load()).assets.get(c.req.param("name"));
    if (!asset) return c.json({ error: "not_found", message: `no asset ${c.req.param("name")}` }, 404);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-type": asset.type, "cache-control": IMMUTABLE });
  });
}

function withTokenUrl(html: string, tokenUrl: string): string {
  const escaped = tokenUrl.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return html.replace('name="morgan-token-url" content=""', `name="morgan-token-url" content="${escaped}"`);
}

/** Same-origin everything; blob: scripts for the microphone's AudioWorklet; the token endpoint's origin. */
function contentSecurityPolicy(tokenUrl: string | undefined): string {
  const connect = ["'self'", ...(tokenUrl ? [new URL(tokenUrl).origin] : [])].join(" ");
  return `default-src 'self'; script-src 'self' blob:; connect-src ${connect}; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`;
}
