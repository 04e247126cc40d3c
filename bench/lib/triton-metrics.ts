/**
 * Per-model counters from Triton's Prometheus endpoint, read before and after a measurement: how
 * many requests each model served and how long they queued and computed. This separates "the model
 * is the bottleneck" from "Morgan is" without touching either.
 */
export interface ModelCounters {
  requests: number;
  executions: number;
  queueUs: number;
  computeUs: number;
}

export type MetricsSnapshot = Record<string, ModelCounters>;

const NAMES: Record<string, keyof ModelCounters> = {
  nv_inference_request_success: "requests",
  nv_inference_exec_count: "executions",
  nv_inference_queue_duration_us: "queueUs",
  nv_inference_compute_infer_duration_us: "computeUs",
};

export async function readTritonMetrics(metricsPort: number): Promise<MetricsSnapshot | undefined> {
  let text: string;
  try {
    text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  } catch {
    return undefined;
  }
  const snapshot: MetricsSnapshot = {};
  for (const line of text.split("\n")) {
    const match = /^(nv_inference_\w+)\{model="([^"]+)",version="[^"]*"\} ([\d.e+]+)$/.exec(line);
    const field = match && NAMES[match[1]!];
    if (!match || !field) continue;
    const model = (snapshot[match[2]!] ??= { requests: 0, executions: 0, queueUs: 0, computeUs: 0 });
    model[field] += Number(match[3]);
  }
  return snapshot;
}

export interface ModelActivity {
  model: string;
  requests: number;
  requestsPerS: number;
  /** Requests per model execution (Triton's dynamic/sequence batching). */
  batch: number;
  meanQueueMs: number;
  meanComputeMs: number;
  /** Compute time per wall second: above the model's instance count, requests pile up. */
  busy: number;
}

export function activity(before: MetricsSnapshot | undefined, after: MetricsSnapshot | undefined, wallS: number): ModelActivity[] {
  if (!before || !after) return [];
  const result: ModelActivity[] = [];
  for (const [model, end] of Object.entries(after)) {
    const start = before[model] ?? { requests: 0, executions: 0, queueUs: 0, computeUs: 0 };
    const requests = end.requests - start.requests;
    if (requests <= 0) continue;
    const executions = end.executions - start.executions;
    const computeUs = end.computeUs - start.computeUs;
    const r = (v: number) => Math.round(v * 100) / 100;
    result.push({
      model,
      requests,
      requestsPerS: r(requests / wallS),
      batch: r(requests / Math.max(1, executions)),
      meanQueueMs: r((end.queueUs - start.queueUs) / requests / 1000),
      meanComputeMs: r(computeUs / requests / 1000),
      // Triton counts a batched execution's compute time against each request in it.
      busy: r(computeUs / Math.max(1, requests / Math.max(1, executions)) / 1e6 / wallS),
    });
  }
  return result;
}
