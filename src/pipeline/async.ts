/** Small async helpers the stages share. */

/**
 * Starts consuming `source` at once and buffers what it yields, so work (a TTS synthesis) runs
 * ahead while earlier items are still being delivered. Errors surface when the consumer reaches them.
 */
export function prefetch<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const items: T[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      for await (const item of source) {
        items.push(item);
        notify();
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      notify();
    }
  })();
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          yield items.shift() as T;
          continue;
        }
        if (failure) throw failure.error;
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/** Runs a promise for its side effect, logging instead of leaving a rejection unhandled. */
export function background(promise: Promise<unknown>, onError: (error: unknown) => void): void {
  promise.catch(onError);
}
