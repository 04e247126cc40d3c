/**
 * The route × credential matrix (issue 12): every route the app serves — enumerated from the app, so
 * a new route without an entry here fails — and the WebSocket paths, against {none, expired, wrong
 * scope, wrong user, valid}, on a real Morgan (Bun server, PostgreSQL, Redis, Triton) in api_key mode
 * with client tokens. Alice's data must never reach another user's credential.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { clientTokens } from "../../src/api/auth/client-tokens.ts";
import { ModelRepository } from "../../src/inference/model-repository/repository.ts";
import { DEFAULT_MODEL_NAMES } from "../../src/inference/model-repository/validate.ts";
import { voiceExtension } from "../../src/api/voice.ts";
import { tritonUrls } from "../../src/config/sections/triton.ts";
import { type ModelServers, modelServers } from "../../src/inference/triton/index.ts";
import { type RunningMorgan, startMorgan } from "../../src/main.ts";
import { testConfig } from "../helpers/config.ts";
import { TestClient } from "../pipeline/support/client.ts";
import { createDatabase, dropDatabase, freePort, REDIS_URL, TRITON_URL } from "../pipeline/support/server.ts";

const KEY = { alice: "alice-key-0123456789abcdefghijklmnopqr", bob: "bob-key-0123456789abcdefghijklmnopqrstu", ops: "ops-key-0123456789abcdefghijklmnopqrstu" };
const CLIENT_SECRET = "client-token-secret-0123456789abcdefghij";
const ALLOWED_ORIGIN = "https://app.example";
const SECRET_WORDS = "my bank PIN is 4711";

let morgan: RunningMorgan;
let base: string;
let databaseUrl: string;
let triton: ModelServers;
const alice = { conversation: "", doomed: "", other: "" };
const minter = clientTokens(CLIENT_SECRET);
const tokens = { expired: "", aliceBoundToOther: "", alice: "" };

beforeAll(async () => {
  databaseUrl = await createDatabase();
  const port = await freePort();
  const config = testConfig({
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    TRITON_URL,
    MORGAN_AUTH_MODE: "api_key",
    MORGAN_API_KEYS: `alice:user:${KEY.alice},bob:user:${KEY.bob},ops:admin:${KEY.ops}`,
    MORGAN_CLIENT_TOKEN_SECRET: CLIENT_SECRET,
    MORGAN_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
  });
  triton = modelServers(tritonUrls(config.triton.url), { keepaliveMs: config.triton.keepaliveMs, healthIntervalMs: config.triton.healthIntervalMs, healthTimeoutMs: config.triton.timeouts.healthMs });
  await triton.start();
  morgan = await startMorgan({
    config,
    models: new ModelRepository(triton.primary, { names: DEFAULT_MODEL_NAMES, timeoutMs: 5_000 }),
    extend: (services) => voiceExtension(services, triton),
  });
  base = `http://127.0.0.1:${port}`;
  const conversations = morgan.services.storage.conversations;
  alice.conversation = (await conversations.createConversation({ userId: "alice" })).id;
  await conversations.appendMessage(alice.conversation, { role: "user", content: SECRET_WORDS });
  alice.doomed = (await conversations.createConversation({ userId: "alice" })).id;
  alice.other = (await conversations.createConversation({ userId: "alice" })).id;
  tokens.expired = (await minter.mint({ userId: "alice", ttlS: 10 }, Date.now() - 3_600_000)).token;
  tokens.aliceBoundToOther = (await minter.mint({ userId: "alice", conversationId: alice.other, ttlS: 300 })).token;
  tokens.alice = (await minter.mint({ userId: "alice", ttlS: 300 })).token;
}, 60_000);

afterAll(async () => {
  await morgan?.shutdown("test over");
  triton?.close();
  if (databaseUrl) await dropDatabase(databaseUrl);
}, 60_000);

type Credential = "none" | "expired" | "wrongScope" | "wrongUser" | "valid";
const CREDENTIALS: Credential[] = ["none", "expired", "wrongScope", "wrongUser", "valid"];

/** Each route's kind decides which credential is "valid", "wrong scope" and "wrong user", and the documented answers. */
type Kind = "public" | "owned" | "admin" | "model" | "mint" | "socket";
interface Entry {
  kind: Kind;
  path: () => string;
  init?: RequestInit;
  /** The documented status per credential (public routes: the same for all). */
  expect: Record<Credential, number | "not denied">;
}

const json = (body: unknown): RequestInit => ({ method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const denied = { none: 401, expired: 401 };
const same = (status: number) => ({ none: status, expired: status, wrongScope: status, wrongUser: status, valid: status });
const model = (path: string): Entry => ({ kind: "model", path: () => path, init: json({}), expect: { ...denied, wrongScope: 400, wrongUser: 400, valid: 400 } });
const admin = (path: string, method = "GET"): Entry => ({ kind: "admin", path: () => path, init: { method }, expect: { ...denied, wrongScope: 403, wrongUser: 403, valid: "not denied" } });
const socket = (path: () => string, wrongUser: number): Entry => ({
  kind: "socket",
  path,
  init: { headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } },
  // A token bound to another conversation opens the socket: `start` refuses the conversation (tested below).
  expect: { ...denied, wrongScope: 101, wrongUser, valid: 101 },
});

const MATRIX: Record<string, Entry> = {
  "GET /live": { kind: "public", path: () => "/live", expect: same(200) },
  "GET /ready": { kind: "public", path: () => "/ready", expect: same(200) },
  "GET /health": { kind: "public", path: () => "/health", expect: same(200) },
  "GET /": { kind: "public", path: () => "/", expect: same(200) },
  "GET /assets/:name": { kind: "public", path: () => "/assets/no-such-asset.js", expect: same(404) },
  "GET /openapi.json": { kind: "public", path: () => "/openapi.json", expect: same(200) },
  "GET /asyncapi.json": { kind: "public", path: () => "/asyncapi.json", expect: same(200) },
  "POST /v1/auth/client-token": { kind: "mint", path: () => "/v1/auth/client-token", init: json({ user_id: "alice" }), expect: { ...denied, wrongScope: 403, wrongUser: 403, valid: 201 } },
  "GET /v1/conversations": { kind: "owned", path: () => "/v1/conversations?user_id=alice", expect: { ...denied, wrongScope: 403, wrongUser: 403, valid: 200 } },
  "GET /v1/conversations/:id": { kind: "owned", path: () => `/v1/conversations/${alice.conversation}`, expect: { ...denied, wrongScope: 404, wrongUser: 404, valid: 200 } },
  "GET /v1/conversations/:id/messages": { kind: "owned", path: () => `/v1/conversations/${alice.conversation}/messages`, expect: { ...denied, wrongScope: 404, wrongUser: 404, valid: 200 } },
  "DELETE /v1/conversations/:id": { kind: "owned", path: () => `/v1/conversations/${alice.doomed}`, init: { method: "DELETE" }, expect: { ...denied, wrongScope: 404, wrongUser: 404, valid: 204 } },
  "GET /metrics": admin("/metrics"),
  "GET /v1/admin/models": admin("/v1/admin/models"),
  "GET /v1/admin/models/validate": admin("/v1/admin/models/validate"),
  // A model that does not exist: the check is about who may ask, not about disturbing the shared Triton.
  "POST /v1/admin/models/:name/load": admin("/v1/admin/models/no-such-model/load", "POST"),
  "POST /v1/admin/models/:name/unload": admin("/v1/admin/models/no-such-model/unload", "POST"),
  "POST /v1/admin/models/:name/reload": admin("/v1/admin/models/no-such-model/reload", "POST"),
  // Authorised callers get to validation: an empty body is a 400, and no model runs.
  "POST /v1/llm/generate": model("/v1/llm/generate"),
  "POST /v1/llm/stream": model("/v1/llm/stream"),
  "POST /v1/tts/generate": model("/v1/tts/generate"),
  "POST /v1/tts/generate/stream": model("/v1/tts/generate/stream"),
  "POST /v1/stt/transcribe": { ...model("/v1/stt/transcribe"), init: { method: "POST", body: "not a wav", headers: { "content-type": "audio/wav" } } },
  "POST /generate": model("/generate"),
  "POST /stream": model("/stream"),
  "POST /generate/stream": model("/generate/stream"),
  "GET /ws/stream": socket(() => "/ws/stream", 101),
  "GET /ws/audio": socket(() => "/ws/audio", 101),
  "GET /ws/stream/:user_id": socket(() => "/ws/stream/alice", 403),
};

/** The credential each kind is probed with. */
function credentialFor(kind: Kind, credential: Credential): string | undefined {
  switch (credential) {
    case "none":
      return undefined;
    case "expired":
      return tokens.expired;
    case "wrongUser":
      return KEY.bob;
    case "wrongScope":
      // A user credential where admin is needed; a client token where tokens are minted; a token bound to another conversation elsewhere.
      if (kind === "admin") return KEY.alice;
      if (kind === "mint") return tokens.alice;
      if (kind === "socket") return tokens.aliceBoundToOther;
      return tokens.aliceBoundToOther;
    case "valid":
      return kind === "admin" ? KEY.ops : KEY.alice;
  }
}

const served = () => morgan.app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path}`);

describe("route × credential matrix", () => {
  test("every route the app serves has an entry (a new route must be added here)", () => {
    const missing = [...new Set(served())].filter((route) => !(route in MATRIX));
    expect(missing).toEqual([]);
    expect(Object.keys(MATRIX).filter((route) => !served().includes(route))).toEqual([]);
  });

  test("each route answers each credential with the documented status, and no other user's data leaks", async () => {
    const answers: string[] = [];
    const leaks: string[] = [];
    for (const credential of CREDENTIALS) {
      for (const [route, entry] of Object.entries(MATRIX)) {
        const token = credentialFor(entry.kind, credential);
        if (entry.kind === "socket" && entry.expect[credential] === 101) {
          // An upgrade that succeeds is a socket, not a response: a real client must open.
          const opened = await TestClient.connect(`${base.replace("http", "ws")}${entry.path()}`, { headers: { authorization: `Bearer ${token}` } }).then(
            (client) => (client.close(), true),
            () => false,
          );
          if (!opened) answers.push(`${route} with ${credential}: the socket did not open`);
          continue;
        }
        const headers = new Headers(entry.init?.headers);
        if (token) headers.set("authorization", `Bearer ${token}`);
        const response = await fetch(`${base}${entry.path()}`, { ...entry.init, headers, redirect: "manual", signal: AbortSignal.timeout(30_000) });
        const body = await response.text();
        const expected = entry.expect[credential];
        const ok = expected === "not denied" ? response.status !== 401 && response.status !== 403 : response.status === expected;
        if (!ok) answers.push(`${route} with ${credential}: ${response.status} (expected ${expected}) ${body.slice(0, 200)}`);
        const foreign = credential !== "valid" || entry.kind === "admin";
        if (foreign && entry.kind !== "admin" && (body.includes("4711") || body.includes('"userId":"alice"'))) leaks.push(`${route} with ${credential}`);
      }
    }
    expect(answers).toEqual([]);
    expect(leaks).toEqual([]);
    // Nobody but Alice removed anything of hers: her conversation and its words are intact.
    const messages = await morgan.services.storage.conversations.listMessages(alice.conversation, {});
    expect(messages.items.map((m) => m.content)).toEqual([SECRET_WORDS]);
    expect(await morgan.services.storage.conversations.getConversation(alice.doomed)).toBeNull();
  }, 120_000);

  test("401 answers say how to authenticate; 403 answers name the reason", async () => {
    const none = await fetch(`${base}/v1/conversations`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await none.json()) as { error: string }).error).toBe("unauthorized");
    const scoped = await fetch(`${base}/v1/admin/models`, { headers: { authorization: `Bearer ${KEY.alice}` } });
    expect(await scoped.json()).toEqual({ error: "forbidden", message: "this route needs the admin scope" });
  });

  test("an admin acts for a user with ?user_id= and reads any conversation", async () => {
    const headers = { authorization: `Bearer ${KEY.ops}` };
    const list = (await (await fetch(`${base}/v1/conversations?user_id=alice`, { headers })).json()) as { items: { id: string }[] };
    expect(list.items.map((c) => c.id)).toContain(alice.conversation);
    expect((await fetch(`${base}/v1/conversations/${alice.conversation}/messages`, { headers })).status).toBe(200);
    const own = (await (await fetch(`${base}/v1/conversations`, { headers: { authorization: `Bearer ${KEY.bob}` } })).json()) as { items: unknown[] };
    expect(own.items).toEqual([]);
  });
});

describe("origins", () => {
  test("a browser page from another origin is refused unless allowed; CORS answers only allowed origins", async () => {
    const headers = { authorization: `Bearer ${KEY.alice}` };
    const evil = await fetch(`${base}/v1/conversations`, { headers: { ...headers, origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: string }).error).toBe("forbidden_origin");
    const allowed = await fetch(`${base}/v1/conversations`, { headers: { ...headers, origin: ALLOWED_ORIGIN } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
    const preflight = await fetch(`${base}/v1/conversations`, { method: "OPTIONS", headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "authorization" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const evilPreflight = await fetch(`${base}/v1/conversations`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
    expect(evilPreflight.headers.get("access-control-allow-origin")).toBeNull();
    const sameOrigin = await fetch(`${base}/v1/conversations`, { headers: { ...headers, origin: base } });
    expect(sameOrigin.status).toBe(200);
  });

  test("a WebSocket from a refused origin gets 403 before the upgrade; an allowed one opens", async () => {
    const upgrade = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" };
    const refused = await fetch(`${base}/ws/stream`, { headers: { ...upgrade, origin: "https://evil.example", authorization: `Bearer ${KEY.alice}` } });
    expect(refused.status).toBe(403);
    const client = await TestClient.connect(`${base.replace("http", "ws")}/ws/stream`, { headers: { origin: ALLOWED_ORIGIN, authorization: `Bearer ${KEY.alice}` } });
    client.close();
  });
});

describe("the WebSocket: the user comes from the credential", () => {
  const ws = () => base.replace("http", "ws");

  test("Authorization header, subprotocol (morgan.v1 selected) and ?token= all open Alice's session", async () => {
    const viaHeader = await TestClient.connect(`${ws()}/ws/stream`, { headers: { authorization: `Bearer ${KEY.alice}` } });
    viaHeader.send({ type: "start", data: {} });
    const first = await viaHeader.next("session_started");
    const viaProtocol = await TestClient.connect(`${ws()}/ws/stream`, { protocols: ["morgan.v1", `morgan.token.${tokens.alice}`] });
    expect(viaProtocol.protocol).toBe("morgan.v1");
    viaProtocol.send({ type: "start", data: {} });
    const second = await viaProtocol.next("session_started");
    const viaQuery = await TestClient.connect(`${ws()}/ws/stream/alice?token=${encodeURIComponent(tokens.alice)}`);
    viaQuery.send({ type: "start", data: {} });
    const third = await viaQuery.next("session_started");
    for (const started of [first, second, third]) {
      const conversation = await morgan.services.storage.conversations.getConversation(started.data.conversation_id);
      expect(conversation?.userId).toBe("alice");
    }
    for (const client of [viaHeader, viaProtocol, viaQuery]) client.close();
  });

  test("Bob cannot start as Alice, in her conversation, or resume her session (even with her resume token)", async () => {
    const owner = await TestClient.connect(`${ws()}/ws/stream`, { headers: { authorization: `Bearer ${KEY.alice}` } });
    owner.send({ type: "start", data: {} });
    const hers = await owner.next("session_started");
    owner.close();
    await owner.closed();

    const asAlice = await TestClient.connect(`${ws()}/ws/stream`, { headers: { authorization: `Bearer ${KEY.bob}` } });
    asAlice.send({ type: "start", data: { user_id: "alice" } });
    expect((await asAlice.next("error")).data.code).toBe("forbidden");
    asAlice.send({ type: "start", data: { conversation_id: alice.conversation } });
    const intoHers = await asAlice.next("error", { from: asAlice.received.length });
    expect(intoHers.data.message).not.toContain("4711");
    expect(asAlice.all("session_started")).toEqual([]);
    asAlice.close();

    const thief = await TestClient.connect(`${ws()}/ws/stream`, { headers: { authorization: `Bearer ${KEY.bob}` } });
    thief.send({ type: "resume", data: { session_id: hers.data.session_id, resume_token: hers.data.resume_token, last_seq: 0 } });
    const refused = await thief.next("error");
    expect(refused.data.code).toBe("resume_failed");
    expect(refused.data.message).toBe(`session ${hers.data.session_id} is unknown or its resume window has passed`);
    expect((await thief.closed()).code).toBe(4002);

    // Alice herself still resumes it: the failed attempt did not spend or end her session.
    const back = await TestClient.connect(`${ws()}/ws/stream`, { headers: { authorization: `Bearer ${KEY.alice}` } });
    back.send({ type: "resume", data: { session_id: hers.data.session_id, resume_token: hers.data.resume_token, last_seq: 0 } });
    expect((await back.next("session_started", { where: (m) => m.data.resumed })).data.session_id).toBe(hers.data.session_id);
    back.close();
    const messages = await morgan.services.storage.conversations.listMessages(alice.conversation, {});
    expect(messages.items.map((m) => m.content)).toEqual([SECRET_WORDS]);
  });

  test("a client token bound to one conversation may start only that one", async () => {
    const bound = await TestClient.connect(`${ws()}/ws/stream`, { protocols: ["morgan.v1", `morgan.token.${tokens.aliceBoundToOther}`] });
    bound.send({ type: "start", data: { conversation_id: alice.conversation } });
    expect((await bound.next("error")).data.code).toBe("forbidden");
    bound.send({ type: "start", data: {} });
    expect((await bound.next("session_started")).data.conversation_id).toBe(alice.other);
    bound.close();
  });

  test("an admin may open a session for any user", async () => {
    const client = await TestClient.connect(`${ws()}/ws/stream/carol`, { headers: { authorization: `Bearer ${KEY.ops}` } });
    client.send({ type: "start", data: {} });
    const started = await client.next("session_started");
    expect((await morgan.services.storage.conversations.getConversation(started.data.conversation_id))?.userId).toBe("carol");
    client.close();
  });
});
