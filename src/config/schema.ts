/** The single schema of every Morgan setting, composed from one file per section. */
import { z } from "zod";
import { sections } from "./sections/index.ts";

type SectionSchemas = { [Name in keyof typeof sections]: (typeof sections)[Name]["schema"] };

function sectionSchemas(): SectionSchemas {
  const entries = Object.entries(sections).map(([name, section]) => [name, section.schema]);
  return Object.fromEntries(entries) as SectionSchemas;
}

/** Rules that span sections. */
function crossSectionRules(config: z.output<ReturnType<typeof z.strictObject<SectionSchemas>>>, context: z.core.$RefinementCtx): void {
  if (config.auth.mode === "none" && !isLoopbackHost(config.server.host)) {
    context.addIssue({
      code: "custom",
      path: ["server", "host"],
      message: "listening beyond this machine needs authentication: set auth.mode (MORGAN_AUTH_MODE) to api_key or jwt, or listen on 127.0.0.1 (docs/security.md)",
    });
  }
}

/** 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || /^::ffff:127\./.test(bare);
}

export const configSchema = z.strictObject(sectionSchemas()).superRefine(crossSectionRules);

export type Config = z.output<typeof configSchema>;
export type SectionName = keyof typeof sections;

/** Dotted paths (from the root) of settings that must never be printed. */
export const secretPaths: ReadonlySet<string> = new Set(
  Object.entries(sections).flatMap(([name, section]) => (section.secrets ?? []).map((path) => `${name}.${path}`)),
);
