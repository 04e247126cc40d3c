/** The page's route settings: served or not, and the token endpoint handed to the page. */
import { afterEach, expect, test } from "bun:test";
import { openTestApp, type TestApp } from "../../../tests/helpers/app.ts";

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

test("web.tokenUrl reaches the page, and its origin the content security policy", async () => {
  app = await openTestApp({ backend: "pglite", env: { MORGAN_WEB_TOKEN_URL: "https://app.example.com/morgan/token?x=<1>" } });
  const response = await app.request("/");
  expect(response.status).toBe(200);
  const html = await response.text();
  expect(html).toContain('name="morgan-token-url" content="https://app.example.com/morgan/token?x=&#60;1&#62;"');
  expect(response.headers.get("content-security-policy")).toContain("connect-src 'self' https://app.example.com;");
}, 60_000);

test("without a token endpoint the page connects with no credential", async () => {
  app = await openTestApp({ backend: "pglite" });
  const html = await (await app.request("/")).text();
  expect(html).toContain('name="morgan-token-url" content=""');
}, 60_000);

test("web.enabled=false serves no page", async () => {
  app = await openTestApp({ backend: "pglite", env: { MORGAN_WEB_ENABLED: "false" } });
  expect((await app.request("/")).status).toBe(404);
}, 60_000);
