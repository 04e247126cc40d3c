import type { z } from "zod";

/**
 * One block of settings. `env` maps an environment variable to a dotted path inside the section;
 * `legacyYamlKeys` maps the flat keys of the original config/core.yaml (e.g. `redis_host`) the same way.
 * Adding a section = one file exporting a ConfigSection + one line in sections/index.ts.
 */
export interface ConfigSection<Schema extends z.ZodType> {
  readonly schema: Schema;
  readonly env: Readonly<Record<string, string>>;
  readonly legacyYamlKeys?: Readonly<Record<string, string>>;
  /** Dotted paths (inside the section) whose values are secrets; redacted in every dump. */
  readonly secrets?: readonly string[];
}

export function defineSection<Schema extends z.ZodType>(section: ConfigSection<Schema>): ConfigSection<Schema> {
  return section;
}
