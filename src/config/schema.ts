/** The single schema of every Morgan setting, composed from one file per section. */
import { z } from "zod";
import { sections } from "./sections/index.ts";

type SectionSchemas = { [Name in keyof typeof sections]: (typeof sections)[Name]["schema"] };

function sectionSchemas(): SectionSchemas {
  const entries = Object.entries(sections).map(([name, section]) => [name, section.schema]);
  return Object.fromEntries(entries) as SectionSchemas;
}

export const configSchema = z.strictObject(sectionSchemas());

export type Config = z.output<typeof configSchema>;
export type SectionName = keyof typeof sections;

/** Dotted paths (from the root) of settings that must never be printed. */
export const secretPaths: ReadonlySet<string> = new Set(
  Object.entries(sections).flatMap(([name, section]) => (section.secrets ?? []).map((path) => `${name}.${path}`)),
);
