/**
 * The web page with authentication on, in real Chromium: Morgan in api_key mode with client tokens,
 * and an "app backend" (a small server of this test, as an operator would run) that mints a client
 * token for its signed-in user with its API key. The page fetches the token from web.tokenUrl, sends
 * it as the morgan.token.* subprotocol (Chromium insists the server selects morgan.v1), and its
 * session belongs to the backend's user. A socket without a token is refused.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { Server } from "bun";
import { freePort, type RunningServer, startServer } from "../pipeline/support/server";
import { launchWithMicrophone, recordScript, waitFor } from "./support/browser";

const APP_KEY = randomBytes(32).toString("base64url");
const USER = `web-${randomBytes(4).toString("hex")}`;

let morgan: RunningServer;
let backend: Server<unknown>;
let minted = 0;

beforeAll(async () => {
  const backendPort = await freePort();
  const morganPort = await freePort();
  const morganOrigin = `http://127.0.0.1:${morganPort}`;
  // The page's origin may call the backend with its cookies: CORS with credentials, for that origin only.
  const cors = { "access-control-allow-origin": morganOrigin, "access-control-allow-credentials": "true" };
  backend = Bun.serve({
    port: backendPort,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: { ...cors, "access-control-allow-methods": "POST" } });
      // A real backend checks its own session cookie here and takes the user from it.
      const answer = await fetch(`${morganOrigin}/v1/auth/client-token`, {
        method: "POST",
        headers: { authorization: `Bearer ${APP_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: USER, ttl_s: 120 }),
      });
      if (answer.status !== 201) return new Response(await answer.text(), { status: 502, headers: cors });
      minted += 1;
      const { token } = (await answer.json()) as { token: string };
      return Response.json({ token }, { headers: cors });
    },
  });
  morgan = await startServer({
    port: morganPort,
    env: {
      MORGAN_AUTH_MODE: "api_key",
      MORGAN_API_KEYS: `app:admin:${APP_KEY}`,
      MORGAN_CLIENT_TOKEN_SECRET: randomBytes(32).toString("base64url"),
      MORGAN_WEB_TOKEN_URL: `http://127.0.0.1:${backendPort}/morgan-token`,
    },
  });
}, 120_000);

afterAll(async () => {
  await morgan?.stop();
  await backend?.stop(true);
}, 60_000);

test("the page gets a client token from the app backend, connects with it, and the session is that user's", async () => {
  const recording = recordScript("token-flow", [{ pauseMs: 2000 }]);
  const browser = await launchWithMicrophone(recording.path);
  try {
    const page = await browser.newPage();
    page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${morgan.url}/`);
    await page.getByRole("button", { name: "Start" }).click();
    await waitFor(page, "connected state", (d) => d.state === "connected", 30_000);
    expect(minted).toBeGreaterThanOrEqual(1);
    const conversationId = await page.evaluate(() => (globalThis as unknown as { morgan: { client: { session: { conversation_id: string } } } }).morgan.client.session.conversation_id);
    const [row] = await morgan.sql<{ user_id: string }[]>`SELECT user_id FROM conversations WHERE id = ${conversationId}`;
    expect(row?.user_id).toBe(USER);

    // From the same page, a socket without a token is refused at the upgrade (401).
    const bare = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(url);
          socket.onopen = () => resolve("opened");
          socket.onerror = () => resolve("refused");
        }),
      `${morgan.wsUrl}/ws/stream`,
    );
    expect(bare).toBe("refused");
  } finally {
    await browser.close();
  }
}, 120_000);
