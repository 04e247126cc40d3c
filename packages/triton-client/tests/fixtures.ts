/** Small builders for requests to the fixture models in tests/models. */
import { bytesToStrings, type InferRequest, type InferResponse, type Tensor } from "@triton-client";

export const int32 = (name: string, value: number): Tensor<"INT32"> => ({ name, datatype: "INT32", shape: [1], data: new Int32Array([value]) });
export const text = (name: string, value: string): Tensor<"BYTES"> => ({ name, datatype: "BYTES", shape: [1], data: [value] });

/** A request to the decoupled `repeat` model: `count` responses, `delayMs` apart, each echoing `tag`. */
export function repeatRequest(tag: string, count: number, delayMs = 0, failAt?: number): InferRequest {
  const inputs: Tensor[] = [int32("COUNT", count), int32("DELAY_MS", delayMs), text("TAG", tag)];
  if (failAt !== undefined) inputs.push(int32("FAIL_AT", failAt));
  return { model: "repeat", inputs };
}

export interface RepeatItem {
  index: number;
  tag: string;
}

export function readRepeat(response: InferResponse): RepeatItem {
  return {
    index: (response.output("INDEX").data as Int32Array)[0]!,
    tag: bytesToStrings(response.output("TAG").data as Uint8Array[])[0]!,
  };
}

/** Drains an iterator, returning what arrived and how it ended. */
export async function drain<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

/** Polls `check` until it returns true or the time runs out (then throws with `what`). */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      if (await check()) return Date.now() - started;
    } catch {
      // not yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}
