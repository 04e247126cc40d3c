/**
 * Collects list appends per key and writes each key's batch in one call after `delayMs`. A voice
 * session sends dozens of messages a second; one Redis transaction each made ioredis the largest
 * cost of the server (bench/README.md, finding 1). Batched, a burst costs one round trip.
 */
export class BatchedAppender<Item> {
  private readonly pending = new Map<string, Item[]>();
  private timer?: Timer;

  constructor(
    private readonly write: (key: string, items: Item[]) => Promise<unknown>,
    private readonly delayMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  add(key: string, item: Item): void {
    const items = this.pending.get(key);
    if (items) items.push(item);
    else this.pending.set(key, [item]);
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Drops what is queued for `key` (its list is being cleared). */
  discard(key: string): void {
    this.pending.delete(key);
  }

  /** Writes everything queued now; resolves when written (failures go to onError). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    await Promise.all(batches.map(([key, items]) => this.write(key, items).catch(this.onError)));
  }
}
