/** Every generated interface document, by its path in the repository (written by scripts/gen-docs.ts, checked by a test). */
import { join } from "node:path";
import packageJson from "../../../package.json" with { type: "json" };
import { asyncApiDocument } from "./asyncapi.ts";
import { openApiDocument } from "./openapi.ts";
import { renderProtocolDoc } from "./protocol-doc.ts";

const DOCS = join(import.meta.dir, "../../../docs");

export function generatedDocuments(): Record<string, string> {
  const asJson = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;
  return {
    [join(DOCS, "protocol.md")]: renderProtocolDoc(),
    [join(DOCS, "asyncapi.json")]: asJson(asyncApiDocument(packageJson.version)),
    [join(DOCS, "openapi.json")]: asJson(openApiDocument(packageJson.version)),
  };
}
