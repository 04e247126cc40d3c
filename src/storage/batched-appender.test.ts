import { expect, test } from "bun:test";
import { BatchedAppender } from "./batched-appender";

test("items added together are written in one call per key, in order", async () => {
  const writes: [string, number[]][] = [];
  const appender = new BatchedAppender<number>(async (key, items) => void writes.push([key, items]), 5, () => {});
  for (const i of [1, 2, 3]) appender.add("a", i);
  appender.add("b", 9);
  expect(writes).toEqual([]);
  await Bun.sleep(20);
  expect(writes).toEqual([
    ["a", [1, 2, 3]],
    ["b", [9]],
  ]);
});

test("flush writes at once, discard drops a key, and a failed write is reported", async () => {
  const writes: string[] = [];
  const errors: unknown[] = [];
  const appender = new BatchedAppender<string>(
    async (key, items) => {
      if (key === "bad") throw new Error("redis away");
      writes.push(`${key}:${items.join(",")}`);
    },
    1000,
    (error) => errors.push(error),
  );
  appender.add("a", "x");
  appender.add("gone", "y");
  appender.add("bad", "z");
  appender.discard("gone");
  await appender.flush();
  expect(writes).toEqual(["a:x"]);
  expect(String(errors[0])).toContain("redis away");
});
