import { afterAll, describe, expect, test } from "bun:test";
import { sql as drizzleSql } from "drizzle-orm";
import postgres from "postgres";
import { openDatabase } from "../src/storage/db.ts";
import { testConfig } from "./helpers/config.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/services.ts";

const EXPECTED_TABLES = ["audio_transcriptions", "conversations", "messages", "streaming_sessions", "tts_generations"];
const EXPECTED_UNIQUE_INDEXES = [
  "conversations_conversation_id_key",
  "messages_conversation_sequence_key",
  "streaming_sessions_session_id_key",
  "tts_generations_lookup_key",
];

describe("migrations from an empty PostgreSQL database", () => {
  let database: TestDatabase;
  afterAll(async () => {
    await database?.drop();
  });

  test("create the five tables, their keys and indexes; running again changes nothing; two migrators at once are safe", async () => {
    database = await createTestDatabase();
    const config = testConfig({ DATABASE_URL: database.url });
    const handles = [openDatabase(config.postgres), openDatabase(config.postgres)];
    await Promise.all(handles.map((handle) => handle.migrate()));
    await handles[0]!.migrate();
    await Promise.all(handles.map((handle) => handle.close()));

    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const tables = await sql<{ table_name: string }[]>`
        select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
      expect(tables.map((t) => t.table_name)).toEqual(EXPECTED_TABLES);
      const unique = await sql<{ indexname: string }[]>`
        select indexname from pg_indexes where schemaname = 'public' and indexdef like 'CREATE UNIQUE INDEX%' and indexname not like '%_pkey'`;
      expect(unique.map((i) => i.indexname).sort()).toEqual(EXPECTED_UNIQUE_INDEXES);
      const foreignKeys = await sql<{ count: number }[]>`
        select count(*)::int as count from information_schema.table_constraints where constraint_type = 'FOREIGN KEY' and table_schema = 'public'`;
      expect(foreignKeys[0]!.count).toBe(5);
      const applied = await sql<{ count: number }[]>`select count(*)::int as count from drizzle.__drizzle_migrations`;
      expect(applied[0]!.count).toBe(1);
      const audio = await sql<{ data_type: string }[]>`
        select data_type from information_schema.columns where table_name = 'tts_generations' and column_name = 'audio'`;
      expect(audio[0]!.data_type).toBe("bytea");
    } finally {
      await sql.end();
    }
  });
});

describe("migrations on embedded PGlite", () => {
  test("apply from empty and are idempotent", async () => {
    const handle = openDatabase(testConfig({ MORGAN_PGLITE_DIR: "memory://" }).postgres);
    try {
      await handle.migrate();
      await handle.migrate();
      const result = await handle.db.execute(
        drizzleSql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      const rows = (result as unknown as { rows: { table_name: string }[] }).rows;
      expect(rows.map((row) => row.table_name)).toEqual(EXPECTED_TABLES);
    } finally {
      await handle.close();
    }
  });
});
