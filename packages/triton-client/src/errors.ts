/**
 * The one error type the client throws. Callers (Morgan's stage adapters)
 * decide between "retry / reconnect" and "give up" from `retryable` alone,
 * without parsing messages.
 */
import { status } from "@grpc/grpc-js";

export { status as GrpcStatus };

/**
 * Codes where the same request may succeed if simply sent again: the server
 * was unreachable or restarting, shed load, or ran out of time.
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  status.UNAVAILABLE,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.DEADLINE_EXCEEDED,
]);

export class TritonError extends Error {
  override readonly name = "TritonError";
  /** gRPC status code (see GrpcStatus). */
  readonly code: number;
  readonly retryable: boolean;
  /** Model the failing call was about, when there was one. */
  readonly model: string | undefined;

  constructor(code: number, message: string, options: { model?: string; cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.model = options.model;
    this.retryable = options.retryable ?? RETRYABLE_CODES.has(code);
  }

  get codeName(): string {
    return status[this.code] ?? `CODE_${this.code}`;
  }
}

/** Shape of the errors grpc-js passes to callbacks and emits on calls. */
interface GrpcServiceErrorLike {
  code?: number;
  details?: string;
  message?: string;
}

/** Wraps a grpc-js error, keeping Triton's own explanation (`details`) up front. */
export function fromGrpcError(error: unknown, context: string, model?: string): TritonError {
  if (error instanceof TritonError) return error;
  const grpcError = (error ?? {}) as GrpcServiceErrorLike;
  const code = typeof grpcError.code === "number" ? grpcError.code : status.UNKNOWN;
  const detail = grpcError.details || grpcError.message || String(error);
  const statusName = status[code] ?? String(code);
  return new TritonError(code, `${context} failed (${statusName}): ${detail}`, { model, cause: error });
}

export function invalidArgument(message: string, model?: string): TritonError {
  return new TritonError(status.INVALID_ARGUMENT, message, { model });
}

export function cancelledError(message: string, model?: string): TritonError {
  return new TritonError(status.CANCELLED, message, { model });
}
