/** Writes docs/protocol.md from the protocol module (bun run gen:protocol-doc). */
import { join } from "node:path";
import { renderProtocolDoc } from "../src/protocol/doc";

const target = join(import.meta.dir, "../docs/protocol.md");
await Bun.write(target, renderProtocolDoc());
console.log(`wrote ${target}`);
