/**
 * A single-consumer async queue: the stream's reader pushes responses for one
 * request, the caller's `for await` pulls them. Ends normally or with an error;
 * items already queued are still delivered before an error surfaces, so a
 * request that received two responses and then failed shows both first.
 */
export class ResponseQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  private finished = false;
  private failure: unknown;
  private onReturn: (() => void) | undefined;

  /** Called once when the consumer stops early (break / return). */
  constructor(onReturn?: () => void) {
    this.onReturn = onReturn;
  }

  get done(): boolean {
    return this.finished;
  }

  push(item: T): void {
    if (this.finished) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.finish(undefined);
  }

  fail(error: unknown): void {
    this.finish(error ?? new Error("request failed"));
  }

  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    this.onReturn = undefined;
    if (this.waiting && this.items.length === 0) {
      const { resolve, reject } = this.waiting;
      this.waiting = undefined;
      if (error === undefined) resolve({ value: undefined, done: true });
      else reject(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.finished) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        // Report the error once; later next() calls just say "done".
        this.failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    const onReturn = this.onReturn;
    this.items.length = 0;
    this.finish(undefined);
    onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
