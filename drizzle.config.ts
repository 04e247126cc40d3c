import { defineConfig } from "drizzle-kit";

// Only `generate` is used (SQL files are committed); migrations are applied by the app and scripts/migrate.ts.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/storage/schema.ts",
  out: "./drizzle",
  strict: true,
});
