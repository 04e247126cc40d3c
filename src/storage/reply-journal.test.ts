/** Exactly one instance stores a reply: the owner that finishes it, or the successor that took it over. */
import { describe, expect, test } from "bun:test";
import pino from "pino";
import { MemoryCache } from "./memory-cache.ts";
import { ReplyJournal } from "./reply-journal.ts";

const log = pino({ level: "silent" });
const progress = (turnId: string, heardText: string) => ({ turnId, heardText, heardMs: heardText.length * 100, text: `${heardText} and more`, tokens: 5 });
/** Two instances on one shared cache (Redis in production). */
function instances() {
  const cache = new MemoryCache();
  return { owner: new ReplyJournal(cache, 60, () => true, log), successor: new ReplyJournal(cache, 60, () => true, log) };
}
const flushed = () => Bun.sleep(150);

describe("ReplyJournal", () => {
  test("the owner finishes first: its claim wins and the successor finds nothing", async () => {
    const { owner, successor } = instances();
    owner.record("s", progress("t1", "Hello"));
    await flushed();
    expect(await owner.claim("s", "t1")).toBe(true);
    expect(await successor.takeOrphans("s")).toEqual([]);
  });

  test("the successor takes the reply over: it gets the latest progress, and the owner's claim loses", async () => {
    const { owner, successor } = instances();
    owner.record("s", progress("t1", "Hello"));
    owner.record("s", progress("t1", "Hello there"));
    await flushed();
    expect(await successor.takeOrphans("s")).toEqual([progress("t1", "Hello there")]);
    // The owner, still alive, reports more and then finishes: it must not store the reply too.
    owner.record("s", progress("t1", "Hello there friend"));
    await flushed();
    expect(await owner.claim("s", "t1")).toBe(false);
    expect(await successor.takeOrphans("s")).toEqual([]);
  });

  test("a reply never journaled is the owner's to store; progress after its claim cannot resurrect it", async () => {
    const { owner, successor } = instances();
    owner.record("s", progress("t1", "Hi"));
    expect(await owner.claim("s", "t1")).toBe(true);
    owner.record("s", progress("t1", "Hi again"));
    await flushed();
    expect(await successor.takeOrphans("s")).toEqual([]);
  });

  test("two replies in flight (a barge-in) are kept apart", async () => {
    const { owner, successor } = instances();
    owner.record("s", progress("t1", "One"));
    owner.record("s", progress("t2", "Two"));
    await flushed();
    expect(await owner.claim("s", "t1")).toBe(true);
    expect(await successor.takeOrphans("s")).toEqual([progress("t2", "Two")]);
  });
});
