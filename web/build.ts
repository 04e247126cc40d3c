/**
 * Builds the web page (web/index.html and what it loads) with Bun's bundler, in memory: the server
 * builds it on the first request to `/` (src/api/routes/web.ts), so a clean clone needs no build step
 * and nothing generated is committed.
 */
import { join } from "node:path";

export interface WebAsset {
  type: string;
  body: Uint8Array;
}

export interface WebBundle {
  /** index.html, its script and stylesheet referenced as /assets/<name>-<hash>.<ext>. */
  html: string;
  /** By file name under /assets/. */
  assets: Map<string, WebAsset>;
  buildMs: number;
}

export const WEB_DIR = import.meta.dir;

export async function buildWebClient(): Promise<WebBundle> {
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: [join(WEB_DIR, "index.html")],
    target: "browser",
    minify: true,
    publicPath: "/",
    naming: { entry: "[name].[ext]", chunk: "assets/[name]-[hash].[ext]", asset: "assets/[name]-[hash].[ext]" },
  });
  if (!result.success) throw new Error(`web page build failed: ${result.logs.map((log) => log.message).join("; ")}`);
  let html: string | undefined;
  const assets = new Map<string, WebAsset>();
  for (const output of result.outputs) {
    const name = output.path.replace(/^\.\//, "");
    if (name === "index.html") html = await output.text();
    else if (name.startsWith("assets/")) assets.set(name.slice("assets/".length), { type: output.type, body: new Uint8Array(await output.arrayBuffer()) });
  }
  if (html === undefined) throw new Error("web page build produced no index.html");
  return { html, assets, buildMs: performance.now() - started };
}

/** Minified and gzipped bytes of each built file (for the size report). */
export function bundleSizes(bundle: WebBundle): { file: string; minified: number; gzipped: number }[] {
  const files: [string, Uint8Array][] = [["index.html", new TextEncoder().encode(bundle.html)], ...[...bundle.assets].map(([name, asset]): [string, Uint8Array] => [name, asset.body])];
  return files.map(([file, body]) => ({ file, minified: body.byteLength, gzipped: Bun.gzipSync(body as Uint8Array<ArrayBuffer>).byteLength }));
}
