/**
 * Regenerates src/generated/ (TypeScript types for the Triton protos) with
 * @grpc/proto-loader's pure-JS generator. Run via `bun run gen:triton`.
 * `generateInto` is also used by tests/generated.test.ts to detect stale output.
 */
import { rmSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { GENERATOR_FLAGS, PROTO_DIR, PROTO_FILES } from "../src/proto-options";

const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
export const GENERATED_DIR = new URL("../src/generated/", import.meta.url).pathname;

export function generateInto(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const generator = join(REPO_ROOT, "node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js");
  const result = Bun.spawnSync(
    [process.execPath, generator, ...GENERATOR_FLAGS, "--includeDirs=.", `--outDir=${outDir}`, ...PROTO_FILES],
    { cwd: PROTO_DIR, stdout: "pipe", stderr: "pipe" },
  );
  if (result.exitCode !== 0) {
    throw new Error(`proto-loader-gen-types failed (${result.exitCode}): ${result.stderr.toString()}`);
  }
}

if (import.meta.main) {
  generateInto(GENERATED_DIR);
  console.log(`generated Triton gRPC types into ${GENERATED_DIR}`);
}
