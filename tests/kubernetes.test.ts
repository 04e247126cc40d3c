/**
 * deploy/kubernetes cannot be applied here (no cluster): each overlay is rendered with Kustomize
 * (`kubectl kustomize`) and checked against the Kubernetes API schemas by kubernetes-validate
 * (PyPI, tests/requirements.txt), strictly, then read for what Morgan relies on: probes on the
 * endpoints Morgan serves, a grace period longer than the drain, the HPA's metric being one Morgan
 * exports, settings Morgan knows, the GPU request only in the GPU overlay.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../src/config/index.ts";
import { sections } from "../src/config/sections/index.ts";

const ROOT = join(import.meta.dir, "..");
const KUBERNETES_VERSION = "1.32.0";
const OVERLAYS = ["cpu", "gpu"] as const;

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // The manifests' shapes are Kubernetes'; the assertions below read the fields they need.
  spec?: any;
  data?: Record<string, string>;
}

async function run(command: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let child;
  try {
    child = Bun.spawn(command, { cwd: ROOT, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  } catch (error) {
    throw new Error(`${command[0]} is needed by this test and could not be run (${(error as Error).message})${command[0] === "kubectl" ? "; kubectl 1.21 or later (Kustomize v4+) renders these files" : ""}`);
  }
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { code, out, err };
}

async function render(overlay: string): Promise<string> {
  const { code, out, err } = await run(["kubectl", "kustomize", `deploy/kubernetes/overlays/${overlay}`]);
  if (code !== 0) throw new Error(`kubectl kustomize deploy/kubernetes/overlays/${overlay} failed (${code}): ${err}`);
  return out;
}

/** kubernetes-validate's verdict on a multi-document YAML stream: exit code and its report. */
async function validate(manifests: string): Promise<{ code: number; report: string }> {
  const tool = join(ROOT, ".venv/bin/kubernetes-validate");
  const { code, out, err } = await run([tool, "-k", KUBERNETES_VERSION, "--strict", "--quiet", "-"], manifests);
  if (code === 127 || err.includes("No such file")) throw new Error(`${tool} missing: .venv/bin/python -m pip install -r tests/requirements.txt`);
  return { code, report: out + err };
}

function resources(text: string): Resource[] {
  return parseAllDocuments(text).map((document) => document.toJS() as Resource);
}

function find(all: Resource[], kind: string, name: string): Resource {
  const found = all.find((resource) => resource.kind === kind && resource.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} missing from the rendered manifests`);
  return found;
}

const knownVariables = new Set(Object.values(sections).flatMap((section) => Object.keys(section.env)));

describe("deploy/kubernetes", () => {
  test("kubernetes-validate refuses an invalid manifest (so a pass below means something)", async () => {
    const broken = `apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {app: broken}}
  template:
    metadata: {labels: {app: broken}}
    spec:
      containers:
        - name: broken
          image: x
          readinesProbe: {httpGet: {path: /ready, port: 8000}}
`;
    const verdict = await validate(broken);
    expect(verdict.code).not.toBe(0);
    expect(verdict.report).toContain("readinesProbe");
  });

  for (const overlay of OVERLAYS) {
    test(`overlay ${overlay}: renders and validates against Kubernetes ${KUBERNETES_VERSION}`, async () => {
      const manifests = await render(overlay);
      const verdict = await validate(manifests);
      expect({ overlay, code: verdict.code, report: verdict.report }).toEqual({ overlay, code: 0, report: "" });
      const kinds = resources(manifests).map((resource) => `${resource.kind}/${resource.metadata.name}`).sort();
      expect(kinds).toEqual([
        "ConfigMap/morgan-config",
        "Deployment/morgan",
        "HorizontalPodAutoscaler/morgan",
        "PersistentVolumeClaim/triton-models",
        "PodDisruptionBudget/morgan",
        "Service/morgan",
        "Service/triton",
        "StatefulSet/triton",
      ]);
    });
  }

  test("the gateway: probes on /ready and /live, a preStop pause, a grace period longer than pause + drain", async () => {
    const all = resources(await render("cpu"));
    const morgan = find(all, "Deployment", "morgan");
    const config = find(all, "ConfigMap", "morgan-config").data!;
    const pod = morgan.spec.template.spec;
    const container = pod.containers.find((c: { name: string }) => c.name === "morgan");
    expect(container.readinessProbe.httpGet.path).toBe("/ready");
    expect(container.livenessProbe.httpGet.path).toBe("/live");
    const ports = Object.fromEntries(container.ports.map((port: { name: string; containerPort: number }) => [port.name, port.containerPort]));
    expect(ports.http).toBe(Number(config.PORT));
    expect(ports.metrics).toBe(Number(config.MORGAN_METRICS_PORT));
    const preStopS: number = container.lifecycle.preStop.sleep.seconds;
    expect(preStopS).toBeGreaterThan(0);
    const settings = loadConfig({ file: null, env: { ...config, MORGAN_API_KEYS: "ops:admin:0123456789abcdef0123456789abcdef" } });
    // docs/gateways.md: the drain, then each shutdown phase bounded by shutdownTimeoutMs, after the preStop pause.
    expect(settings.server.drainMs).toBeLessThan(settings.server.shutdownTimeoutMs);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopS + (settings.server.drainMs + settings.server.shutdownTimeoutMs) / 1000);
    // Secrets come from a Secret, never from the ConfigMap.
    expect(container.envFrom).toContainEqual({ secretRef: { name: "morgan-secrets" } });
    for (const secret of ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "MORGAN_API_KEYS", "REDIS_SENTINEL_PASSWORD"]) expect(Object.keys(config)).not.toContain(secret);
    expect(morgan.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test("every ConfigMap entry is a setting Morgan reads, and together they load (auth on, Sentinel, Triton)", async () => {
    const all = resources(await render("gpu"));
    const config = find(all, "ConfigMap", "morgan-config").data!;
    for (const name of Object.keys(config)) expect({ name, known: knownVariables.has(name) }).toEqual({ name, known: true });
    const settings = loadConfig({ file: null, env: { ...config, POSTGRES_PASSWORD: "x", MORGAN_API_KEYS: "ops:admin:0123456789abcdef0123456789abcdef" } });
    expect(settings.auth.mode).not.toBe("none");
    expect(settings.redis.sentinels.length).toBeGreaterThanOrEqual(3);
    expect(settings.server.host).toBe("0.0.0.0");
    // TRITON_URL lists every Triton pod by its stable name: <statefulset>-<i>.<headless service>:<grpc port>.
    const service = find(all, "Service", "triton");
    const statefulSet = find(all, "StatefulSet", "triton");
    expect(service.spec.clusterIP).toBe("None");
    expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
    const grpc = service.spec.ports.find((port: { name: string }) => port.name === "grpc");
    const names = Array.from({ length: statefulSet.spec.replicas }, (_, i) => `${statefulSet.metadata.name}-${i}.${service.metadata.name}:${grpc.port}`);
    expect(config.TRITON_URL).toBe(names.join(","));
    expect(settings.triton.url).toBe(config.TRITON_URL!);
  });

  test("the HPA scales the gateways on a gauge Morgan exports; the PDB and Services select the pods", async () => {
    const all = resources(await render("cpu"));
    const hpa = find(all, "HorizontalPodAutoscaler", "morgan");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "morgan" });
    const metric: string = hpa.spec.metrics[0].pods.metric.name;
    expect(readFileSync(join(ROOT, "src/telemetry/metrics.ts"), "utf8")).toContain(`"${metric}"`);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const morganLabels = find(all, "Deployment", "morgan").spec.template.metadata.labels;
    const tritonLabels = find(all, "StatefulSet", "triton").spec.template.metadata.labels;
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
    expect(selects(find(all, "PodDisruptionBudget", "morgan").spec.selector.matchLabels, morganLabels)).toBe(true);
    expect(selects(find(all, "Service", "morgan").spec.selector, morganLabels)).toBe(true);
    expect(selects(find(all, "Service", "triton").spec.selector, tritonLabels)).toBe(true);
    expect(selects(find(all, "Service", "triton").spec.selector, morganLabels)).toBe(false);
  });

  test("Triton: the overlay's model repository is mounted whole (lib/ and weights/ beside it); the GPU only in the gpu overlay", async () => {
    for (const overlay of OVERLAYS) {
      const all = resources(await render(overlay));
      const pod = find(all, "StatefulSet", "triton").spec.template.spec;
      const container = pod.containers.find((c: { name: string }) => c.name === "tritonserver");
      const env = Object.fromEntries(container.env.map((variable: { name: string; value: string }) => [variable.name, variable.value]));
      expect(env.MODEL_SET).toBe(overlay);
      expect(container.args.join(" ")).toContain("--model-repository=/models/$(MODEL_SET)");
      expect(container.args.join(" ")).toContain("--grpc-port=8001");
      const mount = container.volumeMounts.find((m: { name: string }) => m.name === "model-repository");
      expect(mount.mountPath).toBe("/models");
      const volume = pod.volumes.find((v: { name: string }) => v.name === "model-repository");
      expect(volume.persistentVolumeClaim.claimName).toBe(find(all, "PersistentVolumeClaim", "triton-models").metadata.name);
      const gpus = container.resources?.limits?.["nvidia.com/gpu"];
      expect({ overlay, gpus }).toEqual({ overlay, gpus: overlay === "gpu" ? "1" : undefined });
      expect(container.image).toStartWith(overlay === "gpu" ? "nvcr.io/nvidia/tritonserver:25.01-vllm-python" : "nvcr.io/nvidia/tritonserver:25.01-py3");
      // The repository the overlay names exists in this checkout, with the models Morgan calls.
      const settings = loadConfig({ file: null, env: {} });
      for (const model of Object.values(settings.triton.models)) expect(Bun.file(join(ROOT, "triton-models", overlay, model, "config.pbtxt")).size).toBeGreaterThan(0);
    }
  });
});
