import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEAD_LETTER_FILE, JOURNAL_FILE, type PendingWrite, PendingWriteQueue } from "./pending-writes.ts";

const deleteWrite = (id: string): PendingWrite => ({ kind: "conversation.delete", id });

describe("PendingWriteQueue journal", () => {
  test("a new queue on the same directory sees every acknowledged write, in order", () => {
    const dir = mkdtempSync(join(tmpdir(), "morgan-journal-"));
    const first = new PendingWriteQueue(dir);
    first.enqueue(deleteWrite("a"));
    first.enqueue(deleteWrite("b"));
    first.enqueue(deleteWrite("c"));
    const afterRestart = new PendingWriteQueue(dir);
    expect(afterRestart.snapshot()).toEqual([deleteWrite("a"), deleteWrite("b"), deleteWrite("c")]);
  });

  test("persist() after shifting leaves only what is still pending", () => {
    const dir = mkdtempSync(join(tmpdir(), "morgan-journal-"));
    const queue = new PendingWriteQueue(dir);
    queue.enqueue(deleteWrite("a"));
    queue.enqueue(deleteWrite("b"));
    queue.shift();
    queue.persist();
    expect(new PendingWriteQueue(dir).snapshot()).toEqual([deleteWrite("b")]);
    queue.shift();
    queue.persist();
    expect(readFileSync(join(dir, JOURNAL_FILE), "utf8")).toBe("");
  });

  test("a torn last line (crash mid-append, never acknowledged) is ignored", () => {
    const dir = mkdtempSync(join(tmpdir(), "morgan-journal-"));
    new PendingWriteQueue(dir).enqueue(deleteWrite("a"));
    appendFileSync(join(dir, JOURNAL_FILE), '{"kind":"conversation.del');
    expect(new PendingWriteQueue(dir).snapshot()).toEqual([deleteWrite("a")]);
  });

  test("dead-lettered writes leave the queue but are kept for an operator", () => {
    const dir = mkdtempSync(join(tmpdir(), "morgan-journal-"));
    const queue = new PendingWriteQueue(dir);
    queue.enqueue(deleteWrite("a"));
    queue.deadLetter("violates a constraint");
    expect(queue.size).toBe(0);
    expect(readFileSync(join(dir, DEAD_LETTER_FILE), "utf8")).toContain("violates a constraint");
  });

  test("without a directory nothing touches the disk", () => {
    const queue = new PendingWriteQueue(null);
    queue.enqueue(deleteWrite("a"));
    queue.persist();
    expect(queue.size).toBe(1);
    expect(existsSync(JOURNAL_FILE)).toBe(false);
  });
});
