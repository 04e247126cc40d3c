/** The served documents, and real responses checked against the schemas they publish. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { openTestApp, type TestApp } from "../../../tests/helpers/app.ts";
import packageJson from "../../../package.json" with { type: "json" };
import { Conversation, ConversationPage, ErrorBody, HealthReport, MessagePage } from "../../protocol/rest";
import { asyncApiDocument } from "../docs/asyncapi.ts";
import { openApiDocument } from "../docs/openapi.ts";

let app: TestApp;
beforeAll(async () => {
  app = await openTestApp({ backend: "pglite", redis: false });
});
afterAll(async () => {
  await app?.close();
});

test("GET /openapi.json and /asyncapi.json serve the generated documents", async () => {
  expect(await (await app.request("/openapi.json")).json()).toEqual(openApiDocument(packageJson.version));
  expect(await (await app.request("/asyncapi.json")).json()).toEqual(asyncApiDocument(packageJson.version));
});

test("the conversation routes answer in the shapes the OpenAPI document publishes", async () => {
  const userId = `docs-${randomUUID()}`;
  const conversation = await app.storage.conversations.createConversation({ userId });
  await app.storage.conversations.appendMessage(conversation.id, { role: "user", content: "hello" });
  await app.storage.conversations.appendMessage(conversation.id, { role: "assistant", content: "hi", interrupted: true, tokensUsed: 2, metadata: { turn_id: randomUUID() } });

  const list = ConversationPage.parse(await (await app.request(`/v1/conversations?user_id=${userId}`)).json());
  expect(list.items.map((c) => c.id)).toEqual([conversation.id]);
  Conversation.parse(await (await app.request(`/v1/conversations/${conversation.id}`)).json());
  const messages = MessagePage.parse(await (await app.request(`/v1/conversations/${conversation.id}/messages`)).json());
  expect(messages.items.map((m) => [m.role, m.interrupted])).toEqual([["user", false], ["assistant", true]]);

  const missing = await app.request(`/v1/conversations/${randomUUID()}`);
  expect(missing.status).toBe(404);
  ErrorBody.parse(await missing.json());
  const invalid = await app.request("/v1/conversations?user_id=x&limit=0");
  expect(invalid.status).toBe(400);
  expect(ErrorBody.parse(await invalid.json()).problems?.[0]?.field).toBe("limit");
  HealthReport.parse(await (await app.request("/health")).json());
});
