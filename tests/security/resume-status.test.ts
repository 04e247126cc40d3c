/**
 * Issue 12, defect 7: a session resumed after its instance shut down kept the status `shutdown` in
 * streaming_sessions, and its later end was ignored. Two real server processes on one database.
 */
import { afterAll, expect, test } from "bun:test";
import { TestClient } from "../pipeline/support/client";
import { createDatabase, dropDatabase, startServer } from "../pipeline/support/server";

const databaseUrl = await createDatabase();
afterAll(() => dropDatabase(databaseUrl));

test("a session resumed on another instance after a shutdown is active again, and its end is recorded", async () => {
  const first = await startServer({ databaseUrl });
  const client = await TestClient.connect(`${first.wsUrl}/ws/stream`);
  client.send({ type: "start" });
  const started = await client.next("session_started");
  const sessionId = started.data.session_id;
  await first.stop("SIGTERM");
  await client.closed();

  const second = await startServer({ databaseUrl });
  try {
    const status = async () => (await second.sql<{ status: string; ended_at: Date | null }[]>`SELECT status, ended_at FROM streaming_sessions WHERE session_id = ${sessionId}`)[0];
    expect((await status())?.status).toBe("shutdown");
    const resumed = await TestClient.connect(`${second.wsUrl}/ws/stream`);
    resumed.send({ type: "resume", data: { session_id: sessionId, resume_token: started.data.resume_token, last_seq: client.received.at(-1)!.seq } });
    await resumed.next("session_started", { where: (m) => m.data.resumed });
    await waitFor(async () => (await status())?.status === "active", "the row to be active again");
    expect((await status())?.ended_at).toBeNull();
    resumed.send({ type: "stop" });
    await resumed.next("session_ended");
    await waitFor(async () => (await status())?.status === "completed", "the end to be recorded");
  } finally {
    await second.stop();
  }
}, 180_000);

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}
