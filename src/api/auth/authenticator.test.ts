import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { testConfig } from "../../../tests/helpers/config.ts";
import { findApiKey, parseApiKeys } from "./api-keys.ts";
import { createAuthenticator } from "./authenticator.ts";
import { AuthError } from "./errors.ts";

const SECRET = "s".repeat(40);
const ALICE_KEY = "alice-secret-0123456789abcdefghijklmnop";
const OPS_KEY = "ops-secret-0123456789abcdefghijklmnopqrs";
const KEYS = `alice:user:${ALICE_KEY},ops:admin:${OPS_KEY}`;
const CLIENT_SECRET = "c".repeat(40);
const dir = mkdtempSync(join(tmpdir(), "morgan-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(work: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await work;
  } catch (error) {
    if (error instanceof AuthError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error("expected an AuthError");
}

const hs256 = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
const now = () => Math.floor(Date.now() / 1000);
const valid = { sub: "bob", iss: "https://idp.example", aud: "morgan", exp: now() + 60 };

describe("mode none", () => {
  test("everyone is the one local caller, who may act as any user", async () => {
    const auth = createAuthenticator(testConfig().auth);
    expect(await auth.authenticate(undefined)).toMatchObject({ userId: "anonymous", method: "none", scopes: ["user", "admin"] });
    expect(auth.clientTokens).toBeUndefined();
  });
});

describe("api keys", () => {
  const auth = createAuthenticator(testConfig({ MORGAN_AUTH_MODE: "api_key", MORGAN_API_KEYS: KEYS }).auth);

  test("a key is its id's user, with its scope; the secret is never part of the principal", async () => {
    expect(await auth.authenticate(ALICE_KEY)).toEqual({ userId: "alice", keyId: "alice", scopes: ["user"], method: "api_key" });
    expect(await auth.authenticate(OPS_KEY)).toEqual({ userId: "ops", keyId: "ops", scopes: ["user", "admin"], method: "api_key" });
  });

  test("missing, unknown, near-miss and JWT-shaped credentials are 401", async () => {
    expect((await refusal(auth.authenticate(undefined))).status).toBe(401);
    expect((await refusal(auth.authenticate(`${ALICE_KEY}x`))).status).toBe(401);
    expect((await refusal(auth.authenticate(ALICE_KEY.slice(0, -1)))).status).toBe(401);
    expect((await refusal(auth.authenticate(await hs256(valid)))).status).toBe(401);
  });

  test("the lookup compares digests of every key (timingSafeEqual needs equal lengths: any input length works)", () => {
    const keys = parseApiKeys(KEYS, "test");
    expect(findApiKey(keys, OPS_KEY)?.id).toBe("ops");
    expect(findApiKey(keys, "")).toBeUndefined();
    expect(findApiKey(keys, "x".repeat(10_000))).toBeUndefined();
  });

  test("malformed entries are refused at start, naming the entry's position but not its secret", () => {
    expect(() => parseApiKeys(`alice:user:${ALICE_KEY},bob:root:${OPS_KEY}`, "MORGAN_API_KEYS")).toThrow("entry 2 is not id:scope:secret");
    expect(() => parseApiKeys("bob:user:short", "MORGAN_API_KEYS")).toThrow(/32\+ printable/);
    expect(() => parseApiKeys(`a:user:${ALICE_KEY},a:admin:${OPS_KEY}`, "f")).toThrow("key id a appears twice");
    try {
      parseApiKeys(`bob:root:${OPS_KEY}`, "MORGAN_API_KEYS");
    } catch (error) {
      expect((error as Error).message).not.toContain(OPS_KEY);
    }
  });

  test("keys come from a file too, one a line, with comments", async () => {
    const file = join(dir, "keys");
    writeFileSync(file, `# operators\nops:admin:${OPS_KEY}\n\ncarol:user:${"k".repeat(32)}\n`);
    const fromFile = createAuthenticator(testConfig({ MORGAN_AUTH_MODE: "api_key", MORGAN_API_KEYS_FILE: file }).auth);
    expect((await fromFile.authenticate("k".repeat(32))).userId).toBe("carol");
  });
});

describe("jwt with an HS256 secret", () => {
  const env = { MORGAN_AUTH_MODE: "jwt", MORGAN_JWT_SECRET: SECRET, MORGAN_JWT_ISSUER: valid.iss, MORGAN_JWT_AUDIENCE: valid.aud, MORGAN_JWT_CLOCK_TOLERANCE_S: "0" };
  const auth = createAuthenticator(testConfig(env).auth);

  test("sub is the user; scope morgan:admin makes an admin", async () => {
    expect(await auth.authenticate(await hs256(valid))).toEqual({ userId: "bob", scopes: ["user"], method: "jwt" });
    expect((await auth.authenticate(await hs256({ ...valid, scope: "openid morgan:admin" }))).scopes).toEqual(["user", "admin"]);
    expect((await auth.authenticate(await hs256({ ...valid, scp: ["morgan:admin"] }))).scopes).toEqual(["user", "admin"]);
    expect((await auth.authenticate(await hs256({ ...valid, scope: "admin" }))).scopes).toEqual(["user"]);
  });

  test("exp, iss, aud, sub and the signature are checked, each refusal naming why", async () => {
    expect(await refusal(auth.authenticate(await hs256({ ...valid, exp: now() - 5 })))).toEqual({ status: 401, message: "invalid token: expired" });
    expect((await refusal(auth.authenticate(await hs256({ ...valid, iss: "https://evil.example" })))).message).toBe("invalid token: claim iss not accepted");
    expect((await refusal(auth.authenticate(await hs256({ ...valid, aud: "other" })))).message).toBe("invalid token: claim aud not accepted");
    const { exp: _exp, ...noExp } = valid;
    expect((await refusal(auth.authenticate(await hs256(noExp)))).message).toBe("invalid token: claim exp missing");
    const { sub: _sub, ...noSub } = valid;
    expect((await refusal(auth.authenticate(await hs256(noSub)))).message).toBe("invalid token: claim sub missing");
    expect((await refusal(auth.authenticate(await hs256(valid, "t".repeat(40))))).message).toBe("invalid token: bad signature");
    expect((await refusal(auth.authenticate("a.b.c"))).status).toBe(401);
  });

  test("an unsigned (alg none) token is refused", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const body = Buffer.from(JSON.stringify(valid)).toString("base64url");
    expect((await refusal(auth.authenticate(`${header}.${body}.`))).status).toBe(401);
  });
});

describe("jwt from a JWKS file", () => {
  test("RS256 and ES256 keys verify by kid; a key not in the set and HS256 are refused", async () => {
    const rsa = await generateKeyPair("RS256");
    const ec = await generateKeyPair("ES256");
    const stranger = await generateKeyPair("ES256");
    const jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "r1", alg: "RS256" }, { ...(await exportJWK(ec.publicKey)), kid: "e1", alg: "ES256" }] };
    const file = join(dir, "jwks.json");
    writeFileSync(file, JSON.stringify(jwks));
    const auth = createAuthenticator(testConfig({ MORGAN_AUTH_MODE: "jwt", MORGAN_JWT_JWKS_FILE: file, MORGAN_JWT_ISSUER: valid.iss, MORGAN_JWT_AUDIENCE: valid.aud }).auth);
    const sign = (alg: string, kid: string, key: CryptoKey) => new SignJWT(valid).setProtectedHeader({ alg, kid }).sign(key);
    expect((await auth.authenticate(await sign("RS256", "r1", rsa.privateKey))).userId).toBe("bob");
    expect((await auth.authenticate(await sign("ES256", "e1", ec.privateKey))).userId).toBe("bob");
    expect((await refusal(auth.authenticate(await sign("ES256", "e1", stranger.privateKey)))).message).toBe("invalid token: bad signature");
    expect((await refusal(auth.authenticate(await sign("ES256", "zz", stranger.privateKey)))).message).toBe("invalid token: no matching key");
    expect((await refusal(auth.authenticate(await hs256(valid)))).status).toBe(401);
  });
});

describe("client tokens", () => {
  const env = { MORGAN_AUTH_MODE: "api_key", MORGAN_API_KEYS: KEYS, MORGAN_CLIENT_TOKEN_SECRET: CLIENT_SECRET };
  const auth = createAuthenticator(testConfig(env).auth);
  const conversationId = "0b9f6c2e-6a55-4f0e-9d7e-1b2c3d4e5f60";

  test("a minted token is its user, user scope only, bound to its conversation, remembering the minting key", async () => {
    const { token, expiresAt } = await auth.clientTokens!.mint({ userId: "dora", conversationId, ttlS: 60, keyId: "ops" });
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await auth.authenticate(token)).toEqual({ userId: "dora", keyId: "ops", scopes: ["user"], conversationId, method: "client_token" });
  });

  test("an expired token, one signed with another secret, and one with a forged cid are 401", async () => {
    const old = await auth.clientTokens!.mint({ userId: "dora", ttlS: 10 }, Date.now() - 60_000);
    expect(await refusal(auth.authenticate(old.token))).toEqual({ status: 401, message: "invalid token: expired" });
    const other = createAuthenticator(testConfig({ ...env, MORGAN_CLIENT_TOKEN_SECRET: "d".repeat(40) }).auth);
    const foreign = await other.clientTokens!.mint({ userId: "dora", ttlS: 60 });
    expect((await refusal(auth.authenticate(foreign.token))).message).toBe("invalid token: bad signature");
    const forged = await new SignJWT({ cid: "../x" }).setProtectedHeader({ alg: "HS256" }).setIssuer("morgan").setAudience("morgan:client").setSubject("dora").setExpirationTime(now() + 60).sign(new TextEncoder().encode(CLIENT_SECRET));
    expect((await refusal(auth.authenticate(forged))).message).toContain("cid");
  });

  test("a token verified once is not trusted past its expiry (the verified-token cache ends with the token)", async () => {
    const { token } = await auth.clientTokens!.mint({ userId: "dora", ttlS: 1 });
    expect((await auth.authenticate(token)).userId).toBe("dora");
    expect((await auth.authenticate(token)).userId).toBe("dora");
    await Bun.sleep(1_100);
    expect(await refusal(auth.authenticate(token))).toEqual({ status: 401, message: "invalid token: expired" });
  });

  test("accepted beside jwt mode; without a client-token secret they are not", async () => {
    const jwtEnv = { MORGAN_AUTH_MODE: "jwt", MORGAN_JWT_SECRET: SECRET, MORGAN_JWT_ISSUER: valid.iss, MORGAN_JWT_AUDIENCE: valid.aud };
    const withTokens = createAuthenticator(testConfig({ ...jwtEnv, MORGAN_CLIENT_TOKEN_SECRET: CLIENT_SECRET }).auth);
    const { token } = await withTokens.clientTokens!.mint({ userId: "erin", ttlS: 60 });
    expect((await withTokens.authenticate(token)).method).toBe("client_token");
    expect((await withTokens.authenticate(await hs256(valid))).method).toBe("jwt");
    const without = createAuthenticator(testConfig(jwtEnv).auth);
    expect((await refusal(without.authenticate(token))).status).toBe(401);
  });
});

describe("settings", () => {
  test("mode none on a non-loopback address, and modes without their keys, are refused at start with one line", () => {
    expect(() => testConfig({ MORGAN_HOST: "0.0.0.0" })).toThrow(/server\.host = "0\.0\.0\.0".*needs authentication/);
    expect(() => testConfig({ MORGAN_HOST: "0.0.0.0", MORGAN_AUTH_MODE: "api_key" })).toThrow("api_key mode needs keys");
    expect(() => testConfig({ MORGAN_AUTH_MODE: "jwt", MORGAN_JWT_SECRET: SECRET })).toThrow("needs auth.jwt.issuer");
    expect(() => testConfig({ MORGAN_JWT_SECRET: "short" })).toThrow(/auth\.jwt\.secret = \[redacted\].*at least 32/);
    expect(() => testConfig({ MORGAN_ALLOWED_ORIGINS: "https://a.example/" })).toThrow("without a path or trailing slash");
    for (const host of ["127.0.0.1", "localhost", "::1", "127.0.0.2"]) expect(testConfig({ MORGAN_HOST: host }).server.host).toBe(host);
    expect(testConfig({ MORGAN_HOST: "0.0.0.0", MORGAN_AUTH_MODE: "api_key", MORGAN_API_KEYS: KEYS }).auth.mode).toBe("api_key");
  });
});
