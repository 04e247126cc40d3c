import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sections } from "./sections/index.ts";

test("docs/configuration.md documents every environment variable and flat yaml key", () => {
  const docs = readFileSync(join(import.meta.dir, "..", "..", "docs", "configuration.md"), "utf8");
  const names = Object.entries(sections).flatMap(([, section]) => [...Object.keys(section.env), ...Object.keys(section.legacyYamlKeys ?? {})]);
  const missing = names.filter((name) => !docs.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});
