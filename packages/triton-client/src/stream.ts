/**
 * A multiplexed ModelStreamInfer stream: many requests share one long-lived
 * bidirectional gRPC stream and their responses are routed back by request id.
 *
 * Failure isolation:
 *  - a model error (error_message) fails only the request it names;
 *  - aborting one request's signal, its deadline, or breaking out of its loop
 *    stops waiting for that request only (the KServe protocol has no
 *    per-request cancel, so Triton finishes it and we drop its responses);
 *  - the stream itself breaking (Triton gone, network down) fails every
 *    in-flight request at once with a retryable UNAVAILABLE TritonError;
 *  - close() cancels the gRPC call, which makes Triton cancel in-flight work.
 */
import type * as grpc from "@grpc/grpc-js";
import { GrpcStatus, TritonError, cancelledError, fromGrpcError } from "./errors";
import type { ModelInferRequest } from "./generated/inference/ModelInferRequest";
import type { ModelStreamInferResponse__Output } from "./generated/inference/ModelStreamInferResponse";
import { EMPTY_FINAL_RESPONSE_PARAMETER, decodeInferResponse, encodeInferRequest } from "./request-encoding";
import { ResponseQueue } from "./response-queue";
import type { CallOptions, InferRequest, InferResponse } from "./types";

type StreamCall = grpc.ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse__Output>;

interface PendingRequest {
  model: string;
  queue: ResponseQueue<InferResponse>;
  cleanup: () => void;
}

let streamSerial = 0;

export class TritonStream {
  private readonly pending = new Map<string, PendingRequest>();
  private readonly idPrefix = `s${++streamSerial}-`;
  private nextRequest = 0;
  private failure: TritonError | undefined;
  private closedByCaller = false;
  private readonly detachSignal: () => void;
  private readonly settledPromise: Promise<void>;
  private settle!: () => void;

  /** Takes ownership of an already started ModelStreamInfer call. */
  constructor(private readonly call: StreamCall, options: Pick<CallOptions, "signal"> = {}) {
    this.settledPromise = new Promise((resolve) => (this.settle = resolve));
    call.on("data", (message: ModelStreamInferResponse__Output) => this.route(message));
    call.on("error", (error: unknown) => this.breakAll(error));
    call.on("end", () => this.breakAll(undefined));
    call.on("close", () => this.breakAll(undefined));

    const signal = options.signal;
    const onAbort = () => this.close();
    if (signal?.aborted) queueMicrotask(onAbort);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.detachSignal = () => signal?.removeEventListener("abort", onAbort);
  }

  /** Requests sent and not yet finished. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Set once the stream can no longer carry requests (broken or closed). */
  get error(): TritonError | undefined {
    return this.failure;
  }

  /** Resolves once the underlying gRPC call is over, for whatever reason. */
  get settled(): Promise<void> {
    return this.settledPromise;
  }

  /**
   * Sends one request and returns its responses in order. The iterator ends
   * after the response Triton marks final, and throws a TritonError if the
   * model reports an error, the request is aborted, or the stream breaks.
   */
  infer(request: InferRequest, options: Pick<CallOptions, "signal" | "deadlineMs"> = {}): AsyncIterableIterator<InferResponse> {
    const id = request.id || `${this.idPrefix}${++this.nextRequest}`;
    let forget = () => {};
    const queue = new ResponseQueue<InferResponse>(() => forget());
    if (this.failure) {
      queue.fail(this.failure);
      return queue;
    }
    if (this.pending.has(id)) {
      queue.fail(new TritonError(GrpcStatus.INVALID_ARGUMENT, `request id "${id}" is already in flight on this stream`, { model: request.model }));
      return queue;
    }
    let message: ModelInferRequest;
    try {
      message = encodeInferRequest({ ...request, id }, { [EMPTY_FINAL_RESPONSE_PARAMETER]: true });
    } catch (error) {
      queue.fail(error);
      return queue;
    }
    const { signal, deadlineMs } = options;
    if (signal?.aborted) {
      queue.fail(cancelledError(`request "${id}" to model "${request.model}" was aborted before it was sent`, request.model));
      return queue;
    }

    const onAbort = () => this.abandon(id, cancelledError(`request "${id}" to model "${request.model}" was aborted by the caller`, request.model));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = deadlineMs === undefined ? undefined : setTimeout(() => {
      this.abandon(id, new TritonError(GrpcStatus.DEADLINE_EXCEEDED, `request "${id}" to model "${request.model}" got no final response within ${deadlineMs} ms`, { model: request.model }));
    }, deadlineMs);
    const cleanup = () => {
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    forget = () => this.abandon(id, undefined);
    this.pending.set(id, { model: request.model, queue, cleanup });
    this.call.write(message);
    return queue;
  }

  /**
   * Half-closes the stream: no new requests, but in-flight ones complete.
   * Resolves when Triton has finished them and ended the stream.
   */
  async end(): Promise<void> {
    if (!this.failure) {
      this.failure = new TritonError(GrpcStatus.CANCELLED, "stream was ended by the caller", { retryable: false });
      this.call.end();
    }
    await this.settledPromise;
  }

  /** Cancels the stream at once: Triton cancels in-flight work, local iterators fail with CANCELLED. */
  close(): void {
    if (this.closedByCaller) return;
    this.closedByCaller = true;
    this.failAll(cancelledError("stream was closed by the caller"));
    this.call.cancel();
  }

  private route(message: ModelStreamInferResponse__Output): void {
    const id = message.infer_response?.id ?? "";
    const entry = this.pending.get(id);
    // Responses for requests the caller abandoned are expected; drop them.
    if (!entry) return;
    if (message.error_message) {
      this.finishRequest(id, entry);
      entry.queue.fail(new TritonError(GrpcStatus.INTERNAL, `model "${entry.model}" failed request "${id}": ${message.error_message}`, {
        model: entry.model,
        retryable: false,
      }));
      return;
    }
    let response: InferResponse;
    try {
      response = decodeInferResponse(message.infer_response!, false);
    } catch (error) {
      this.finishRequest(id, entry);
      entry.queue.fail(error);
      return;
    }
    // The empty final response only marks the end; it carries no outputs.
    if (!response.final || response.outputs.length > 0) entry.queue.push(response);
    if (response.final) {
      this.finishRequest(id, entry);
      entry.queue.end();
    }
  }

  private finishRequest(id: string, entry: PendingRequest): void {
    this.pending.delete(id);
    entry.cleanup();
  }

  /** Stops waiting for one request; `error` undefined means the caller just stopped reading. */
  private abandon(id: string, error: TritonError | undefined): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.finishRequest(id, entry);
    if (error) entry.queue.fail(error);
    else entry.queue.end();
  }

  private breakAll(error: unknown): void {
    if (!this.closedByCaller) {
      const broken = error === undefined
        ? new TritonError(GrpcStatus.UNAVAILABLE, "Triton ended the inference stream", { retryable: true })
        : streamError(error);
      // A stream the caller half-closed that then ends cleanly is not broken.
      if (!(error === undefined && this.failure?.code === GrpcStatus.CANCELLED)) this.failAll(broken);
    }
    this.failure ??= cancelledError("stream is closed");
    this.detachSignal();
    this.settle();
  }

  private failAll(error: TritonError): void {
    this.failure = error;
    const entries = [...this.pending.entries()];
    this.pending.clear();
    for (const [, entry] of entries) {
      entry.cleanup();
      entry.queue.fail(error);
    }
  }
}

/** Stream-level failures that a new stream will not fix. */
const PERMANENT_STREAM_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INVALID_ARGUMENT,
]);

/**
 * A stream that breaks is worth retrying on a new stream unless the failure is
 * about who we are or what we sent; transport-level codes become UNAVAILABLE.
 */
function streamError(error: unknown): TritonError {
  const wrapped = fromGrpcError(error, "Triton inference stream");
  if (wrapped.code === GrpcStatus.DEADLINE_EXCEEDED || PERMANENT_STREAM_CODES.has(wrapped.code)) return wrapped;
  const transportLevel = wrapped.code === GrpcStatus.CANCELLED || wrapped.code === GrpcStatus.INTERNAL || wrapped.code === GrpcStatus.UNKNOWN;
  // gRPC maps HTTP/2 ENHANCE_YOUR_CALM to this generic text; from Triton it means GOAWAY(too_many_pings).
  const pingHint = /bandwidth exhausted/i.test(wrapped.message)
    ? "; Triton rejected our keep-alive pings: keepaliveMs is below Triton's --grpc-http2-min-recv-ping-interval-without-data"
    : "";
  return new TritonError(transportLevel ? GrpcStatus.UNAVAILABLE : wrapped.code, `${wrapped.message} (stream broke${pingHint}; open a new stream and retry)`, {
    cause: error,
    retryable: true,
  });
}
