import { describe, expect, test } from "bun:test";
import { TokenBucket } from "./token-bucket";

describe("TokenBucket", () => {
  test("allows a burst, then the average rate", () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 3 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 499;
    expect(bucket.take()).toBe(false);
    now = 500;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  test("never holds more than the burst, however long it idles", () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2 }, () => now);
    now = 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });

  test("says how long until the next token", () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 1 }, () => now);
    expect(bucket.take()).toBe(true);
    expect(bucket.msUntilNext()).toBe(250);
    now = 100;
    expect(bucket.msUntilNext()).toBe(150);
  });
});
