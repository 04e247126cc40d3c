/**
 * The in-process cache: same operations and TTL semantics as the Redis one. Serves when no Redis is
 * configured and while Redis is away. Bounded: the least recently written keys leave first.
 */
import type { CacheBackend, CacheValue, ListAppendOptions } from "./cache-backend.ts";

interface Entry {
  value: string | CacheValue[];
  /** Epoch ms; Infinity = no expiry. */
  expiresAt: number;
}

export class MemoryCache implements CacheBackend {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly maxKeys = 100_000) {}

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | null> {
    const entry = this.#live(key);
    return entry && typeof entry.value === "string" ? entry.value : null;
  }

  async set(key: string, value: string, ttlS: number): Promise<void> {
    this.#write(key, { value, expiresAt: Date.now() + ttlS * 1000 });
  }

  async delete(...keys: string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) if (this.#live(key) && this.#entries.delete(key)) removed++;
    return removed;
  }

  async listAppend(key: string, values: CacheValue[], options: ListAppendOptions): Promise<number> {
    const entry = this.#live(key);
    const list = entry && Array.isArray(entry.value) ? entry.value : [];
    list.push(...values.map(copyValue));
    if (list.length > options.maxLength) list.splice(0, list.length - options.maxLength);
    this.#write(key, { value: list, expiresAt: Date.now() + options.ttlS * 1000 });
    return list.length;
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.#range(key, start, stop).map((item) => (typeof item === "string" ? item : Buffer.from(item).toString()));
  }

  async listRangeBytes(key: string, start: number, stop: number): Promise<Uint8Array[]> {
    return this.#range(key, start, stop).map((item) => (typeof item === "string" ? Buffer.from(item) : copyValue(item) as Uint8Array));
  }

  async ttlMs(key: string): Promise<number | null> {
    const entry = this.#live(key);
    return entry ? Math.max(1, entry.expiresAt - Date.now()) : null;
  }

  /** The raw entry, for copying a key to Redis when it comes back. */
  peek(key: string): { value: string | CacheValue[]; ttlMs: number } | null {
    const entry = this.#live(key);
    return entry ? { value: entry.value, ttlMs: Math.max(1, entry.expiresAt - Date.now()) } : null;
  }

  async ping(): Promise<void> {}

  async counterAdvance(key: string, floor: number, by: number, ttlS: number): Promise<number> {
    const current = Number((await this.get(key)) ?? 0);
    const next = Math.max(current, floor) + by;
    this.#write(key, { value: String(next), expiresAt: Date.now() + ttlS * 1000 });
    return next;
  }

  async take(key: string): Promise<string | null> {
    const value = await this.get(key);
    if (value !== null) this.#entries.delete(key);
    return value;
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    if ((await this.get(key)) !== value) return false;
    return this.#entries.delete(key);
  }

  async fieldReplaceIfEquals(key: string, field: string, expected: string | null, value: string, ttlS: number): Promise<boolean> {
    const fields = await this.#fields(key);
    if ((fields[field] ?? null) !== expected) return false;
    fields[field] = value;
    this.#write(key, { value: JSON.stringify(fields), expiresAt: Date.now() + ttlS * 1000 });
    return true;
  }

  async fieldDeleteIfEquals(key: string, field: string, value: string): Promise<boolean> {
    const entry = this.#live(key);
    const fields = await this.#fields(key);
    if (!entry || fields[field] !== value) return false;
    delete fields[field];
    if (Object.keys(fields).length === 0) this.#entries.delete(key);
    else entry.value = JSON.stringify(fields);
    return true;
  }

  async #fields(key: string): Promise<Record<string, string>> {
    const raw = await this.get(key);
    return raw === null ? {} : (JSON.parse(raw) as Record<string, string>);
  }

  async expireIfEquals(key: string, value: string, ttlS: number): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry || entry.value !== value) return false;
    entry.expiresAt = Date.now() + ttlS * 1000;
    return true;
  }

  clear(): void {
    this.#entries.clear();
  }

  #range(key: string, start: number, stop: number): CacheValue[] {
    const entry = this.#live(key);
    if (!entry || !Array.isArray(entry.value)) return [];
    const length = entry.value.length;
    const from = start < 0 ? Math.max(0, length + start) : start;
    const to = stop < 0 ? length + stop : Math.min(stop, length - 1);
    return entry.value.slice(from, to + 1);
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

function copyValue(value: CacheValue): CacheValue {
  return typeof value === "string" ? value : new Uint8Array(value);
}
