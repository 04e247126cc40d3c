/**
 * Operators' control of Triton's model repository, one implementation for the CLI (`bun run models`)
 * and the admin API (/v1/admin/models): list the models with their state and Triton's statistics;
 * load, unload and reload one; validate what Triton serves against Morgan's tensor contract.
 *
 * Unloading is bounded in time. Triton answers an unload at once and finishes it in the background,
 * once the model is no longer in use; what keeps it in use is not only requests still queued or
 * running: Triton 2.51 keeps a model UNLOADING for as long as any gRPC stream (ModelStreamInfer)
 * that has sent it a request stays open, even when every request on it has finished (reproduced in
 * tests/admin-models.test.ts). Morgan closes its streams when a request ends
 * (STT: when the utterance ends), so a model stuck here has work queued behind it or a client that
 * holds a stream open; the error says so, with the model's statistics, instead of waiting forever.
 */
import type { ModelStatistics as TritonStatistics, TritonClient } from "@triton-client";
import { type ModelNamesByRole, validateServer } from "./validate";

export const MODEL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export interface ModelStatistics {
  /** Requests that succeeded and that failed, since the model was loaded. */
  requests: number;
  failures: number;
  /** Model executions (a batch of requests counts once). */
  executions: number;
  /** Total time requests waited in the queue, and the model computed (input, inference, output). */
  queueS: number;
  computeS: number;
  lastInferenceAt: string | null;
}

export interface ModelEntry {
  name: string;
  version: string;
  /** Triton's state: READY, LOADING, UNLOADING, UNAVAILABLE. */
  state: string;
  reason: string;
  /** The Morgan role this model serves under the current configuration, if any. */
  role: keyof ModelNamesByRole | null;
  statistics: ModelStatistics | null;
}

export type ModelAction = "load" | "unload" | "reload";

export interface ActionResult {
  name: string;
  action: ModelAction;
  state: string;
  durationMs: number;
}

export class ModelRepositoryError extends Error {
  override readonly name = "ModelRepositoryError";
  constructor(
    /** invalid_name: refused before asking Triton; not_found: not in the repository; stuck: the deadline passed; failed: Triton refused. */
    readonly kind: "invalid_name" | "not_found" | "stuck" | "failed",
    message: string,
    readonly entry?: ModelEntry,
  ) {
    super(message);
  }
}

export interface ModelRepositoryOptions {
  /** The model of each role (MORGAN_TRITON_MODEL_*, defaults for the roles the configuration does not name). */
  names: ModelNamesByRole;
  /** How long a load or unload may take before the model is reported stuck. */
  timeoutMs: number;
}

export class ModelRepository {
  constructor(
    private readonly client: TritonClient,
    private readonly options: ModelRepositoryOptions,
  ) {}

  /** Every model in Triton's repository, with its statistics when loaded. */
  async list(): Promise<ModelEntry[]> {
    const deadlineMs = this.options.timeoutMs;
    const [index, statistics] = await Promise.all([
      this.client.repositoryIndex({ deadlineMs }),
      this.client.modelStatistics("", "", { deadlineMs }),
    ]);
    const roles = new Map(Object.entries(this.options.names).map(([role, name]) => [name, role as keyof ModelNamesByRole]));
    return index.map(({ name, version, state, reason }) => {
      const stats = statistics.find((s) => s.name === name && (version === "" || s.version === version));
      return { name, version, state, reason, role: roles.get(name) ?? null, statistics: stats ? summarise(stats) : null };
    });
  }

  async change(action: ModelAction, name: string, timeoutMs = this.options.timeoutMs): Promise<ActionResult> {
    if (!MODEL_NAME.test(name)) throw new ModelRepositoryError("invalid_name", `invalid model name ${JSON.stringify(name)}: use 1-128 letters, digits, _ . -`);
    const started = performance.now();
    if (action === "unload") await this.unload(name, timeoutMs);
    else await this.load(name, timeoutMs);
    const entry = await this.entry(name);
    return { name, action, state: entry?.state ?? "UNAVAILABLE", durationMs: Math.round(performance.now() - started) };
  }

  /** Problems of the configurations Triton serves for Morgan's roles; empty when they keep the contract. */
  validate(): Promise<string[]> {
    return validateServer(this.client, this.options.names, this.options.timeoutMs);
  }

  private async load(name: string, timeoutMs: number): Promise<void> {
    // Triton's load of a loaded model reloads it from the repository; the call returns once done.
    try {
      await this.client.loadModel(name, { deadlineMs: timeoutMs });
    } catch (error) {
      const entry = await this.entry(name);
      if (!entry) throw new ModelRepositoryError("not_found", `model ${name} is not in Triton's repository`);
      if (entry.state === "LOADING") throw new ModelRepositoryError("stuck", `${name} is still LOADING after ${seconds(timeoutMs)} s`, entry);
      throw new ModelRepositoryError("failed", `Triton could not load ${name}: ${errorText(error)}`, entry);
    }
  }

  private async unload(name: string, timeoutMs: number): Promise<void> {
    if (!(await this.entry(name))) throw new ModelRepositoryError("not_found", `model ${name} is not in Triton's repository`);
    const deadline = Date.now() + timeoutMs;
    try {
      await this.client.unloadModel(name, { deadlineMs: timeoutMs });
    } catch (error) {
      throw new ModelRepositoryError("failed", `Triton refused to unload ${name}: ${errorText(error)}`, await this.entry(name));
    }
    for (;;) {
      const entry = await this.entry(name);
      if (!entry || entry.state === "UNAVAILABLE") return;
      if (Date.now() >= deadline) throw new ModelRepositoryError("stuck", stuckMessage(entry, timeoutMs), entry);
      await Bun.sleep(100);
    }
  }

  private async entry(name: string): Promise<ModelEntry | undefined> {
    return (await this.list()).find((entry) => entry.name === name);
  }
}

function stuckMessage(entry: ModelEntry, timeoutMs: number): string {
  const stats = entry.statistics;
  const activity = stats
    ? `it has served ${stats.requests} requests (${stats.failures} failed), the last at ${stats.lastInferenceAt ?? "never"}`
    : "Triton reports no statistics for it";
  return (
    `${entry.name} is still ${entry.state} after ${seconds(timeoutMs)} s: Triton finishes an unload only when no request is ` +
    "queued or running for the model and every gRPC stream that sent it a request has been closed (even an idle one). " +
    `${activity}. Close the clients holding streams to it (or wait for their work to end); Triton completes the unload by itself then.`
  );
}

function summarise(stats: TritonStatistics): ModelStatistics {
  const inference = stats.inference_stats;
  const ns = (duration: { ns: string } | null | undefined) => Number(duration?.ns ?? 0) / 1e9;
  const count = (duration: { count: string } | null | undefined) => Number(duration?.count ?? 0);
  const last = Number(stats.last_inference);
  return {
    requests: count(inference?.success),
    failures: count(inference?.fail),
    executions: Number(stats.execution_count),
    queueS: round(ns(inference?.queue)),
    computeS: round(ns(inference?.compute_input) + ns(inference?.compute_infer) + ns(inference?.compute_output)),
    lastInferenceAt: last > 0 ? new Date(last).toISOString() : null,
  };
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;
const seconds = (ms: number) => Math.round(ms / 100) / 10;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
