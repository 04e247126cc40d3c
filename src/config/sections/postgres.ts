import { z } from "zod";
import { intField, optionalText, optionalUrl, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

/**
 * PostgreSQL is used when `url` or `host` is set; otherwise Morgan runs on embedded PGlite
 * persisted in `pgliteDataDir`, with the same migrations.
 */
export const postgresSection = defineSection({
  schema: z
    .strictObject({
      url: optionalUrl(["postgres", "postgresql"]),
      host: optionalText(),
      port: intField(1, 65535, 5432),
      database: textField("morgan"),
      user: textField("morgan"),
      password: optionalText(),
      poolSize: intField(1, 20, 10),
      connectTimeoutS: intField(1, 120, 5),
      /** Where embedded PGlite keeps its files; "memory://" keeps nothing. */
      pgliteDataDir: textField(".data/pglite"),
    })
    .prefault({}),
  env: {
    DATABASE_URL: "url",
    POSTGRES_HOST: "host",
    POSTGRES_PORT: "port",
    POSTGRES_DB: "database",
    POSTGRES_USER: "user",
    POSTGRES_PASSWORD: "password",
    MORGAN_POSTGRES_POOL_SIZE: "poolSize",
    MORGAN_POSTGRES_CONNECT_TIMEOUT_S: "connectTimeoutS",
    MORGAN_PGLITE_DIR: "pgliteDataDir",
  },
  legacyYamlKeys: {
    postgres_host: "host",
    postgres_port: "port",
    postgres_db: "database",
    postgres_user: "user",
    postgres_password: "password",
  },
  secrets: ["password", "url"],
});
