/**
 * The failover rules of the stage adapters over a TritonPool, in one place:
 * - a request that has received no response yet is retried on another endpoint;
 * - a stream that has delivered something and then loses its endpoint fails with ModelServerLostError
 *   (the turn fails with a clear error; the session carries on);
 * - STT re-opens its sequence elsewhere itself (stt.ts), since only it holds the utterance's audio.
 */
import { GrpcStatus, TritonError, type TritonClient } from "@triton-client";
import { type Lease, NoModelServerError, TritonPool } from "./pool";

export type ModelServers = TritonPool<TritonClient>;

/**
 * A model server failed while serving a request that had already delivered part of its answer. The
 * message is fit for a client (`publicMessage`: the pipeline passes it on as written).
 */
export class ModelServerLostError extends TritonError {
  readonly publicMessage: string;

  constructor(model: string, cause: unknown) {
    super(GrpcStatus.UNAVAILABLE, `the ${model} model server failed during this request and the rest of its answer is lost; try again`, {
      model,
      cause,
      retryable: false,
    });
    this.publicMessage = this.message;
  }
}

/** The caller's signal and the lease's (aborted when its endpoint is declared down), as one. */
export function leaseSignal(lease: Lease<unknown>, signal?: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, lease.signal]) : lease.signal;
}

/**
 * Whether `error` means the endpoint could not serve the request (unreachable, its stream broken, or
 * declared down by the health probe) rather than the request being at fault or cancelled by the caller.
 * Marks an unreachable endpoint so that no new request goes there before a probe answers.
 */
export function endpointFailed(pool: ModelServers, lease: Lease<TritonClient>, error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return false;
  if (lease.signal.aborted) return true;
  if (error instanceof TritonError && error.code === GrpcStatus.UNAVAILABLE) {
    pool.reportUnreachable(lease.endpoint.url);
    return true;
  }
  return false;
}

/** The error to give the caller when no endpoint is left to try: a clear one, with the last endpoint's failure as its cause. */
function exhausted(model: string, error: unknown, lastError: unknown): unknown {
  return error instanceof NoModelServerError && lastError !== undefined ? new NoModelServerError(model, lastError) : error;
}

/** Runs a unary call, retrying it on another endpoint when its endpoint fails (it got no response). */
export async function unaryWithFailover<T>(
  pool: ModelServers,
  model: string,
  signal: AbortSignal | undefined,
  call: (client: TritonClient, signal: AbortSignal, url: string) => Promise<T>,
  prefer?: string,
): Promise<{ value: T; url: string; client: TritonClient }> {
  const avoid = new Set<string>();
  let lastError: unknown;
  for (;;) {
    let lease: Lease<TritonClient>;
    try {
      lease = pool.acquire(model, avoid, avoid.size === 0 ? prefer : undefined);
    } catch (error) {
      throw exhausted(model, error, lastError);
    }
    try {
      const { client, url } = lease.endpoint;
      return { value: await call(client, leaseSignal(lease, signal), url), url, client };
    } catch (error) {
      if (!endpointFailed(pool, lease, error, signal)) throw error;
      lastError = error;
      avoid.add(lease.endpoint.url);
    } finally {
      lease.release();
    }
  }
}

/**
 * Runs a streamed request; until it has delivered anything it is retried on another endpoint when
 * its endpoint fails, after that such a failure ends it with ModelServerLostError.
 */
export async function* streamWithFailover<T>(
  pool: ModelServers,
  model: string,
  signal: AbortSignal | undefined,
  run: (client: TritonClient, signal: AbortSignal) => AsyncIterable<T>,
): AsyncIterable<T> {
  const avoid = new Set<string>();
  let lastError: unknown;
  for (;;) {
    let lease: Lease<TritonClient>;
    try {
      lease = pool.acquire(model, avoid);
    } catch (error) {
      throw exhausted(model, error, lastError);
    }
    let delivered = false;
    try {
      for await (const item of run(lease.endpoint.client, leaseSignal(lease, signal))) {
        delivered = true;
        yield item;
      }
      return;
    } catch (error) {
      if (!endpointFailed(pool, lease, error, signal)) throw error;
      if (delivered) throw new ModelServerLostError(model, error);
      lastError = error;
      avoid.add(lease.endpoint.url);
    } finally {
      lease.release();
    }
  }
}
