/** docker-compose.yml cannot run here (no GPU, no Docker); this keeps it consistent with the config schema. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
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
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
}

const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;
const core = services.core!;
const coreEnv = core.environment!;

/** Compose's ${NAME:-default} → default (what the container gets when NAME is unset). */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");
/** What an operator supplies for compose's required ${NAME:?message} variables. */
const REQUIRED = { MORGAN_API_KEYS: `ops:admin:${"s".repeat(40)}` };
const withRequired = (value: string) => value.replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, name: keyof typeof REQUIRED) => REQUIRED[name]);
const knownVariables = new Set(["MORGAN_CONFIG", ...Object.values(sections).flatMap((section) => Object.keys(section.env))]);

describe("docker-compose.yml", () => {
  test("has core, redis, postgres and tritonserver", () => {
    expect(Object.keys(services).sort()).toEqual(["core", "postgres", "redis", "tritonserver"]);
    expect(existsSync(join(ROOT, "Dockerfile"))).toBe(true);
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
    expect(core.ports).toContain(`${coreEnv.PORT}:${coreEnv.PORT}`);
    const postgresEnv = services.postgres!.environment!;
    expect(postgresEnv.POSTGRES_DB).toBe(coreEnv.POSTGRES_DB!);
    expect(postgresEnv.POSTGRES_USER).toBe(coreEnv.POSTGRES_USER!);
    expect(postgresEnv.POSTGRES_PASSWORD).toBe(coreEnv.POSTGRES_PASSWORD!);
  });

  test("tritonserver: NVIDIA image, GPU reservation, the GPU model repository mounted", () => {
    const triton = services.tritonserver!;
    expect(triton.image).toStartWith("nvcr.io/nvidia/tritonserver:");
    expect(triton.volumes?.some((volume) => volume.startsWith("./triton-models/gpu:/models"))).toBe(true);
    expect(String(triton.command)).toContain("--model-repository=/models");
    expect(existsSync(join(ROOT, "triton-models", "gpu"))).toBe(true);
    const devices = triton.deploy?.resources?.reservations?.devices ?? [];
    expect(devices.some((device) => device.driver === "nvidia" && device.capabilities.includes("gpu"))).toBe(true);
  });

  test("data survives restarts and core starts only after healthy dependencies", () => {
    for (const name of ["postgres", "redis", "tritonserver", "core"]) expect(services[name]!.healthcheck).toBeDefined();
    expect(services.postgres!.volumes?.some((v) => v.endsWith(":/var/lib/postgresql/data"))).toBe(true);
    expect(services.redis!.volumes?.some((v) => v.endsWith(":/data"))).toBe(true);
    expect(core.volumes?.some((v) => v.endsWith(":/var/lib/morgan"))).toBe(true);
    expect(coreEnv.MORGAN_JOURNAL_DIR).toStartWith("/var/lib/morgan/");
    for (const dependency of ["postgres", "redis", "tritonserver"]) expect(core.depends_on?.[dependency]?.condition).toBe("service_healthy");
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
