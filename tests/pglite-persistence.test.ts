/** The embedded default keeps its data on disk: what was written survives a restart. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../src/storage/index.ts";
import { silentLogger, testConfig } from "./helpers/config.ts";

test("PGlite in a data directory: conversations survive closing and reopening", async () => {
  const config = testConfig({ MORGAN_PGLITE_DIR: join(mkdtempSync(join(tmpdir(), "morgan-pglite-")), "db") });
  const first = await openStorage(config, silentLogger());
  expect(first.database.mode).toBe("pglite");
  const conversation = await first.conversations.createConversation({ userId: "disk-user" });
  await first.conversations.appendMessage(conversation.id, { role: "user", content: "still here after a restart" });
  await first.close();

  const second = await openStorage(config, silentLogger());
  try {
    const page = await second.conversations.listMessages(conversation.id);
    expect(page.items.map((m) => [m.sequenceNumber, m.content])).toEqual([[1, "still here after a restart"]]);
    const next = await second.conversations.appendMessage(conversation.id, { role: "assistant", content: "and counting" });
    expect(next.sequenceNumber).toBe(2);
  } finally {
    await second.close();
  }
}, 60_000);
