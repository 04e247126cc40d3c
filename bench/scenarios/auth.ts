/**
 * Scenario 12, what authentication costs: the throughput bench's loads (text turns and pings on the
 * instant models) plus REST reads, against a Morgan without authentication (auth.mode none) and one
 * with it (api_key, client tokens on), in alternating rounds of one run so both see the same machine.
 *
 * With auth on, WebSocket clients send a client token (an HS256 JWT) as browsers do, in the
 * Sec-WebSocket-Protocol header; it is checked once per connection, so per-message cost should be
 * nil. REST requests carry a credential each, so each pays for it: an API key (a SHA-256 digest and
 * a constant-time comparison per configured key) or a client token (a JWT signature check).
 *
 * Figures: requests (or turns, or messages) per second, on ÷ off, and the round trips' median and
 * p95 on and off. Target: the throughput with auth on within 5% of auth off, judged by the median of
 * the rounds' on ÷ off ratios (each round runs on and off back to back, so a burst of the machine's
 * other load spoils one ratio rather than the sum); the ratio of the summed rounds is shown beside it. Beside the end-to-end
 * rounds, which the machine's other load makes noisy, the authentication step itself is timed in
 * this process per credential kind.
 */
import { randomBytes } from "node:crypto";
import { createAuthenticator } from "../../src/api/auth/authenticator";
import { loadConfig } from "../../src/config";
import { startMorgan, type MorganServer } from "../lib/environment";
import { measured } from "../lib/measure";
import type { Row, Scenario, Target } from "../lib/scenario";
import { distribution, round } from "../lib/stats";
import { runWorkers } from "../lib/workers";
import type { FloodResult, Job } from "../load/protocol";

const TARGET_RATIO = 0.95;
const INSTANT = { MORGAN_TRITON_MODEL_LLM: "instant-llm", MORGAN_TRITON_MODEL_TTS: "instant-tts" };

interface Credentials {
  apiKey?: string;
  clientToken?: string;
}

interface Workload {
  name: string;
  unit: string;
  round(server: MorganServer, credentials: Credentials): Promise<FloodResult[]>;
}

interface Tally {
  done: number;
  wallS: number;
  cpuS: number;
  latenciesMs: number[];
  errors: string[];
}

export const authCost: Scenario = async (context) => {
  const rounds = context.quick ? 2 : 7;
  const seconds = context.quick ? 3 : 5;
  const apiKey = randomBytes(32).toString("base64url");
  const on = {
    MORGAN_AUTH_MODE: "api_key",
    MORGAN_API_KEYS: `bench:user:${apiKey}`,
    MORGAN_CLIENT_TOKEN_SECRET: randomBytes(32).toString("base64url"),
    // Every bench socket's client token counts against the key that minted it.
    MORGAN_QUOTA_SESSIONS_PER_KEY: "100000",
  };
  const start = (env: Record<string, string>) => startMorgan({ tritonUrl: context.triton.grpcUrl, env: { ...INSTANT, ...env } });
  const servers = { off: await start({}), on: await start(on) };
  const minted = await fetch(`${servers.on.url}/v1/auth/client-token`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ ttl_s: 3600 }) });
  if (minted.status !== 201) throw new Error(`could not mint a client token: ${minted.status} ${await minted.text()}`);
  const clientToken = ((await minted.json()) as { token: string }).token;
  const credentials = { off: {}, on: { apiKey, clientToken } } satisfies Record<"on" | "off", Credentials>;

  const flood = (message: "text" | "ping", connections: number, window: number): Workload => ({
    name: message === "text" ? "WebSocket text turns (instant models)" : "WebSocket pings",
    unit: message === "text" ? "turns" : "messages",
    async round(server, { clientToken }) {
      const protocols = clientToken ? ["morgan.v1", `morgan.token.${clientToken}`] : undefined;
      const jobs: Job[] = Array.from({ length: 2 }, () => ({ kind: "flood", wsUrl: server.wsUrl, connections, window, durationS: seconds, message, text: "hello there", protocols }));
      return (await runWorkers<FloodResult>(jobs, seconds + 60)).results;
    },
  });
  const rest = (credential: keyof Credentials): Workload => ({
    name: `REST GET /v1/conversations (auth on: ${credential === "apiKey" ? "an API key" : "a client token"} per request)`,
    unit: "requests",
    async round(server, creds) {
      const jobs: Job[] = Array.from({ length: 2 }, () => ({ kind: "rest-flood", httpUrl: server.url, path: "/v1/conversations?limit=1", token: creds[credential], concurrency: 8, durationS: seconds }));
      return (await runWorkers<FloodResult>(jobs, seconds + 60)).results;
    },
  });

  const rows: Row[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const plots: Record<string, unknown> = { workloads: [] as unknown[] };
  try {
    const workloads = [flood("text", 25, 1), flood("ping", 8, 32), rest("apiKey"), rest("clientToken")];
    // Warm-up (not measured): JIT, first connections, first requests on each server.
    for (const workload of workloads) for (const mode of ["off", "on"] as const) await workload.round(servers[mode], credentials[mode]);
    for (const workload of workloads) {
      const tally: Record<"on" | "off", Tally> = { on: empty(), off: empty() };
      const roundRatios: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const roundRate = { on: 0, off: 0 };
        // Alternate which goes first, so a trend in the machine's load falls on both alike.
        for (const mode of i % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
          context.log(`auth: ${workload.name}, auth ${mode}, round ${i + 1}/${rounds}`);
          const run = await measured({ server: servers[mode].pid }, () => workload.round(servers[mode], credentials[mode]));
          const t = tally[mode];
          const done = run.result.reduce((sum, r) => sum + r.answered, 0);
          const wallS = Math.max(...run.result.map((r) => r.wallS));
          roundRate[mode] = done / wallS;
          t.done += done;
          t.wallS += wallS;
          t.cpuS += run.server.cpuS;
          for (const r of run.result) for (const ms of r.roundTripMs) t.latenciesMs.push(ms);
          for (const r of run.result) t.errors.push(...r.errors.slice(0, 5));
        }
        roundRatios.push(roundRate.on / roundRate.off);
      }
      const rate = (t: Tally) => t.done / t.wallS;
      const summedRatio = rate(tally.on) / rate(tally.off);
      const ratio = median(roundRatios);
      const cpuRatio = tally.on.cpuS / Math.max(tally.on.done, 1) / (tally.off.cpuS / Math.max(tally.off.done, 1));
      for (const mode of ["off", "on"] as const) {
        const t = tally[mode];
        rows.push({
          figure: `${workload.name}: round trip, auth ${mode}`,
          load: `${rounds} rounds × ${seconds} s`,
          unit: "ms",
          distribution: distribution(t.latenciesMs),
          throughput: { value: round(rate(t), 1), unit: `${workload.unit}/s` },
        });
        if (t.errors.length > 0) notes.push(`${workload.name}, auth ${mode}: ${t.errors.length} errors, e.g. ${t.errors[0]}`);
      }
      rows.push({
        figure: `${workload.name}: throughput on ÷ off, median of rounds · of the summed rounds · server CPU per ${workload.unit.replace(/s$/, "")} on ÷ off`,
        load: `rounds: ${roundRatios.map((r) => round(r, 2)).join(", ")}`,
        unit: "ratio",
        value: `${round(ratio, 3)} · ${round(summedRatio, 3)} · ${round(cpuRatio, 3)}`,
      });
      targets.push({
        name: `cost of auth, ${workload.name}: throughput on ÷ off (median of ${rounds} rounds)`,
        goal: `≥ ${TARGET_RATIO}`,
        measured: `${round(ratio, 3)} (${round(rate(tally.on), 1)} vs ${round(rate(tally.off), 1)} ${workload.unit}/s; p95 ${p95(tally.on)} vs ${p95(tally.off)} ms)`,
        met: ratio >= TARGET_RATIO,
      });
      (plots.workloads as unknown[]).push({ name: workload.name, ratio, cpuRatio, on: rate(tally.on), off: rate(tally.off) });
    }
  } finally {
    await servers.off.stop();
    await servers.on.stop();
  }
  for (const row of await timeAuthentication(context.quick ? 2_000 : 20_000)) rows.push(row);
  return { rows, targets, notes, plots };
};

/** Microseconds per authenticate() call in this process, per credential kind. */
async function timeAuthentication(calls: number): Promise<Row[]> {
  const apiKey = randomBytes(32).toString("base64url");
  const keys = Array.from({ length: 10 }, (_, i) => `key${i}:user:${randomBytes(32).toString("base64url")}`).join(",");
  const env = { MORGAN_AUTH_MODE: "api_key", MORGAN_API_KEYS: `${keys},bench:user:${apiKey}`, MORGAN_CLIENT_TOKEN_SECRET: randomBytes(32).toString("base64url"), LOG_LEVEL: "silent" };
  const auth = createAuthenticator(loadConfig({ file: null, env }).auth);
  const fresh = await Promise.all(Array.from({ length: Math.min(calls, 2_000) }, () => auth.clientTokens!.mint({ userId: "bench", ttlS: 600 })));
  const time = async (n: number, credential: (i: number) => string) => {
    const started = performance.now();
    for (let i = 0; i < n; i++) await auth.authenticate(credential(i));
    return ((performance.now() - started) * 1000) / n;
  };
  const cached = fresh[0]!.token;
  await time(200, () => apiKey);
  const rows: [string, number][] = [
    ["an API key (SHA-256, then timingSafeEqual against each of 11 keys)", await time(calls, () => apiKey)],
    ["a client token seen before (the verified-token cache)", await time(calls, () => cached)],
    ["a client token seen for the first time (HS256 signature check)", await time(fresh.length, (i) => fresh[i]!.token)],
  ];
  return rows.map(([what, us]) => ({ figure: `in process: authenticate() with ${what}`, load: `${calls} calls`, unit: "µs per call", value: round(us, 2) }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function empty(): Tally {
  return { done: 0, wallS: 0, cpuS: 0, latenciesMs: [], errors: [] };
}

function p95(t: Tally): number | string {
  return distribution(t.latenciesMs)?.p95 ?? "n/a";
}
