/** Runs load while sampling the server's (and Triton's) CPU and memory from /proc. */
import { ProcessSampler, type ProcessUsage } from "./procstat";

/** Triton's figures cover tritonserver and its Python backend stubs (where the CPU models run). */
export interface Measured<T> {
  result: T;
  server: ProcessUsage;
  triton?: ProcessUsage;
}

export async function measured<T>(pids: { server: number; triton?: number }, load: () => Promise<T>): Promise<Measured<T>> {
  const server = new ProcessSampler(pids.server);
  const triton = pids.triton === undefined ? undefined : new ProcessSampler(pids.triton, { includeChildren: true });
  try {
    const result = await load();
    return { result, server: server.stop(), triton: triton?.stop() };
  } finally {
    server.stop();
    triton?.stop();
  }
}

/** Splits `total` into `parts` near-equal positive shares (for spreading sessions over workers). */
export function shares(total: number, parts: number): number[] {
  const count = Math.max(1, Math.min(parts, total));
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}
