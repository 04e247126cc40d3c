/** Writes the generated interface documents (bun run gen:docs): docs/protocol.md, docs/asyncapi.json, docs/openapi.json. */
import { generatedDocuments } from "../src/api/docs/documents.ts";

for (const [path, text] of Object.entries(generatedDocuments())) {
  await Bun.write(path, text);
  console.log(`wrote ${path}`);
}
