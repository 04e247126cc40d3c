/** docker-compose.yml cannot run here (no GPU, no Docker); this keeps it consistent with the config schema. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../src/config/index.ts";
import { sections } from "../src/config/sections/index.ts";

const ROOT = join(import.meta.dir, "..");

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
}

// The gateways share one definition through a YAML merge key (<<: *core), as Compose reads it.
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;
const GATEWAYS = ["core-1", "core-2", "core-3"];
const core = services["core-1"]!;
const coreEnv = core.environment!;
const coreDependsOn = core.depends_on as Record<string, { condition: string }>;

/** Compose's ${NAME:-default} → default (what the container gets when NAME is unset). */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");
/** What an operator supplies for compose's required ${NAME:?message} variables. */
const REQUIRED = { MORGAN_API_KEYS: `ops:admin:${"s".repeat(40)}` };
const withRequired = (value: string) => value.replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, name: keyof typeof REQUIRED) => REQUIRED[name]);
const knownVariables = new Set(["MORGAN_CONFIG", ...Object.values(sections).flatMap((section) => Object.keys(section.env))]);

describe("docker-compose.yml", () => {
  test("has three gateways behind haproxy, redis, postgres and tritonserver", () => {
    expect(Object.keys(services).sort()).toEqual(["core-1", "core-2", "core-3", "haproxy", "postgres", "redis", "tritonserver"]);
    expect(existsSync(join(ROOT, "Dockerfile"))).toBe(true);
  });

  test("the gateways are one definition, each with its own journal volume; only haproxy publishes a port", () => {
    for (const name of GATEWAYS) {
      const gateway = services[name]!;
      expect(gateway.environment).toEqual(coreEnv);
      expect(gateway.image).toBe(core.image!);
      expect(gateway.ports).toBeUndefined();
      expect(gateway.expose).toContain(coreEnv.PORT!);
    }
    // The pending-write journal is per process (docs/storage.md): no two gateways share a volume.
    const journals = GATEWAYS.map((name) => services[name]!.volumes!.find((v) => v.endsWith(":/var/lib/morgan"))!.split(":")[0]);
    expect(new Set(journals).size).toBe(GATEWAYS.length);
  });

  test("a gateway's stop grace period outlasts its drain and shutdown (docs/gateways.md)", () => {
    const env = Object.fromEntries(Object.entries(coreEnv).map(([name, value]) => [name, withRequired(withDefaults(String(value)))]));
    const { server } = loadConfig({ file: null, env });
    const graceS = Number(/^(\d+)s$/.exec(String((core as { stop_grace_period?: string }).stop_grace_period))?.[1]);
    expect(graceS).toBeGreaterThan((server.drainMs + server.shutdownTimeoutMs) / 1000);
  });

  test("haproxy: a valid config (checked by haproxy itself) with every gateway, health-checked on /ready", async () => {
    const haproxy = services.haproxy!;
    expect(haproxy.ports).toEqual([`${coreEnv.PORT}:${coreEnv.PORT}`]);
    const mount = haproxy.volumes!.find((volume) => volume.endsWith(":/usr/local/etc/haproxy/haproxy.cfg:ro"))!;
    const file = join(ROOT, mount.split(":")[0]!);
    const cfg = readFileSync(file, "utf8");
    expect(cfg).toContain(`bind :${coreEnv.PORT}`);
    expect(cfg).toMatch(/http-check send meth GET uri \/ready ver HTTP\/1.1 hdr Host /);
    expect(cfg).toMatch(/timeout tunnel /);
    for (const name of GATEWAYS) expect(cfg).toContain(`server ${name} ${name}:${coreEnv.PORT}`);
    expect(haproxy.depends_on).toEqual(GATEWAYS);
    // Debian's haproxy parses it as the container's will (the gateways' names resolve only in Compose).
    const check = Bun.spawn(["haproxy", "-c", "-f", file], { stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([check.exited, new Response(check.stderr).text()]);
    expect({ code, err: err.split("\n").filter((line) => line.includes("ALERT")) }).toEqual({ code: 0, err: [] });
  });

  test("every core environment variable is a setting Morgan reads, and together they load", () => {
    for (const name of Object.keys(coreEnv)) expect({ name, known: knownVariables.has(name) }).toEqual({ name, known: true });
    const env = Object.fromEntries(Object.entries(coreEnv).map(([name, value]) => [name, withRequired(withDefaults(String(value)))]));
    const config = loadConfig({ file: null, env });
    expect(config.postgres.host).toBe("postgres");
    expect(config.redis.host).toBe("redis");
    expect(config.triton.url).toBe("tritonserver:8001");
    expect(config.server.port).toBe(8000);
    // The container listens on the network, so it must authenticate callers.
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.auth.mode).toBe("api_key");
  });

  test("hosts and ports agree between core and the services it uses", () => {
    expect(services[coreEnv.POSTGRES_HOST!]).toBeDefined();
    expect(services[coreEnv.REDIS_HOST!]).toBeDefined();
    const [tritonHost, tritonPort] = coreEnv.TRITON_URL!.split(":");
    const triton = services[tritonHost!]!;
    expect(triton.expose).toContain(tritonPort!);
    expect(String(triton.command)).toContain(`--grpc-port=${tritonPort}`);
    expect(coreEnv.POSTGRES_PORT).toBe("5432");
    expect(coreEnv.REDIS_PORT).toBe("6379");
    const postgresEnv = services.postgres!.environment!;
    expect(postgresEnv.POSTGRES_DB).toBe(coreEnv.POSTGRES_DB!);
    expect(postgresEnv.POSTGRES_USER).toBe(coreEnv.POSTGRES_USER!);
    expect(postgresEnv.POSTGRES_PASSWORD).toBe(coreEnv.POSTGRES_PASSWORD!);
  });

  test("tritonserver: NVIDIA image, GPU reservation, the GPU model repository mounted with what its links reach", () => {
    const triton = services.tritonserver!;
    expect(triton.image).toStartWith("nvcr.io/nvidia/tritonserver:");
    // gpu/ holds links to ../cpu model files, which import ../lib and read ../weights: the whole tree is mounted.
    expect(triton.volumes).toContain("./triton-models:/models:ro");
    expect(String(triton.command)).toContain("--model-repository=/models/gpu ");
    expect(String(triton.command)).toContain("/models/gpu/requirements.txt > /tmp/requirements.txt");
    expect(existsSync(join(ROOT, "triton-models", "gpu", "requirements.txt"))).toBe(true);
    const tree = realpathSync(join(ROOT, "triton-models"));
    for (const model of ["stt", "tts", "turn", "vad"]) {
      const target = realpathSync(join(ROOT, "triton-models", "gpu", model, "1", "model.py"));
      expect(target.startsWith(`${tree}/`)).toBe(true);
    }
    const devices = triton.deploy?.resources?.reservations?.devices ?? [];
    expect(devices.some((device) => device.driver === "nvidia" && device.capabilities.includes("gpu"))).toBe(true);
  });

  test("data survives restarts and core starts only after healthy dependencies", () => {
    for (const name of ["postgres", "redis", "tritonserver", ...GATEWAYS]) expect(services[name]!.healthcheck).toBeDefined();
    expect(services.postgres!.volumes?.some((v) => v.endsWith(":/var/lib/postgresql/data"))).toBe(true);
    expect(services.redis!.volumes?.some((v) => v.endsWith(":/data"))).toBe(true);
    expect(core.volumes?.some((v) => v.endsWith(":/var/lib/morgan"))).toBe(true);
    expect(coreEnv.MORGAN_JOURNAL_DIR).toStartWith("/var/lib/morgan/");
    for (const dependency of ["postgres", "redis", "tritonserver"]) expect(coreDependsOn[dependency]?.condition).toBe("service_healthy");
    for (const volume of [...(core.volumes ?? []), ...(services.postgres!.volumes ?? []), ...(services.redis!.volumes ?? [])]) {
      const name = volume.split(":")[0]!;
      if (!name.startsWith(".")) expect(Object.keys(compose.volumes)).toContain(name);
    }
  });

  test("the Dockerfile serves the same port and ships the migrations", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toContain(`EXPOSE ${coreEnv.PORT}`);
    expect(dockerfile).toContain("COPY drizzle ./drizzle");
    expect(dockerfile).toContain('CMD ["bun", "run", "src/main.ts"]');
  });
});
