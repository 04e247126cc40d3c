/** Storage failures the HTTP layer maps to status codes (400, 404, 409, 503) instead of 500. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
  constructor(readonly entity: string, readonly id: string) {
    super(`${entity} ${id} not found`);
  }
}

export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/** PostgreSQL is away and the answer is not in any cache tier; retry later. */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";
  constructor(message = "the database is unavailable; retry shortly", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A page cursor that this API did not hand out (or that was altered). */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
}
