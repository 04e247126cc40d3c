/** The operations every cache tier offers (Redis, and the in-process stand-in). */
export type CacheValue = string | Uint8Array;

export interface ListAppendOptions {
  /** Older items beyond this many are trimmed. */
  maxLength: number;
  /** The whole list expires this long after the last append. */
  ttlS: number;
}

export interface CacheBackend {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlS: number): Promise<void>;
  delete(...keys: string[]): Promise<number>;
  /** Appends at the tail, trims to maxLength from the head, refreshes the TTL; returns the new length. */
  listAppend(key: string, values: CacheValue[], options: ListAppendOptions): Promise<number>;
  /** Redis LRANGE semantics: inclusive, negative indexes count from the end. */
  listRange(key: string, start: number, stop: number): Promise<string[]>;
  listRangeBytes(key: string, start: number, stop: number): Promise<Uint8Array[]>;
  /** Remaining lifetime in ms, or null when the key does not exist. */
  ttlMs(key: string): Promise<number | null>;
  ping(): Promise<void>;
  /**
   * Atomically raises the integer counter at `key` to at least `floor`, adds `by`, refreshes the TTL,
   * and returns the new value (a missing key counts as 0).
   */
  counterAdvance(key: string, floor: number, by: number, ttlS: number): Promise<number>;
  /** Atomically reads and deletes a string key (GETDEL): of several takers exactly one gets the value. */
  take(key: string): Promise<string | null>;
  /** Deletes the key only while it still holds `value` (compare-and-delete); true when deleted. */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
  /** Restarts the key's TTL only while it still holds `value` (a lease renewal); true when renewed. */
  expireIfEquals(key: string, value: string, ttlS: number): Promise<boolean>;
  /**
   * The key holds a JSON object of string fields. Sets `field` to `value` (refreshing the TTL) only
   * while it holds `expected` (null: while the field is absent); true when set.
   */
  fieldReplaceIfEquals(key: string, field: string, expected: string | null, value: string, ttlS: number): Promise<boolean>;
  /** Removes `field` from such a JSON object only while it holds `value` (the key goes with its last field); true when removed. */
  fieldDeleteIfEquals(key: string, field: string, value: string): Promise<boolean>;
}
