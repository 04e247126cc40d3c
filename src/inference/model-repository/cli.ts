/**
 * `bun run models <command>`: operators' tool for Triton's model repository.
 *
 *   validate [DIR...]     check config.pbtxt files against Morgan's tensor contract
 *                         (default: triton-models/cpu and triton-models/gpu)
 *   list                  the repository index of the running Triton (TRITON_URL)
 *   load NAME | unload NAME | reload NAME
 *                         through Triton's repository API (explicit model control)
 */
import { join } from "node:path";
import { TritonClient } from "@triton-client";
import { DEFAULT_MODEL_NAMES, validateRepository } from "./validate";

const USAGE = "usage: bun run models validate [DIR...] | list | load NAME | unload NAME | reload NAME";
const MODEL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const DEFAULT_REPOSITORIES = ["cpu", "gpu"].map((set) => join(import.meta.dir, "../../../triton-models", set));

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  tritonUrl: string;
}

/** Runs one command; resolves with the process exit code. */
export async function runModelsCli(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === "validate") return validate(rest.length > 0 ? rest : DEFAULT_REPOSITORIES, io);
  if (command === "list" && rest.length === 0) return withClient(io, (client) => list(client, io));
  if ((command === "load" || command === "unload" || command === "reload") && rest.length === 1) {
    const name = rest[0]!;
    if (!MODEL_NAME.test(name)) {
      io.err(`invalid model name ${JSON.stringify(name)}: use letters, digits, _ . -`);
      return 2;
    }
    return withClient(io, (client) => changeModel(client, command, name, io));
  }
  io.err(USAGE);
  return 2;
}

function validate(repositories: string[], io: CliIo): number {
  let failed = false;
  for (const repository of repositories) {
    const problems = validateRepository(repository, DEFAULT_MODEL_NAMES);
    if (problems.length === 0) io.out(`ok    ${repository}`);
    for (const problem of problems) io.err(`FAIL  ${repository}: ${problem}`);
    failed ||= problems.length > 0;
  }
  return failed ? 1 : 0;
}

async function list(client: TritonClient, io: CliIo): Promise<number> {
  const models = await client.repositoryIndex({ deadlineMs: 10_000 });
  io.out(["model".padEnd(16), "version".padEnd(8), "state".padEnd(12), "reason"].join(" "));
  for (const m of models) io.out([m.name.padEnd(16), (m.version || "-").padEnd(8), m.state.padEnd(12), m.reason].join(" "));
  return 0;
}

async function changeModel(client: TritonClient, command: "load" | "unload" | "reload", name: string, io: CliIo): Promise<number> {
  const started = performance.now();
  // Triton's load of a loaded model reloads it from the repository.
  if (command === "unload") {
    await client.unloadModel(name, { deadlineMs: 120_000 });
    // Triton answers at once and unloads once in-flight requests finish: wait for that.
    if (!(await waitForState(client, name, "UNAVAILABLE", 120_000))) {
      io.err(`${name} did not finish unloading within 120 s`);
      return 1;
    }
  } else {
    await client.loadModel(name, { deadlineMs: 120_000 });
  }
  io.out(`${command}ed ${name} in ${Math.round(performance.now() - started)} ms`);
  return 0;
}

async function waitForState(client: TritonClient, name: string, state: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const entry = (await client.repositoryIndex({ deadlineMs: 10_000 })).find((m) => m.name === name);
    if (!entry || entry.state === state) return true;
    await Bun.sleep(100);
  }
  return false;
}

async function withClient(io: CliIo, work: (client: TritonClient) => Promise<number>): Promise<number> {
  const client = new TritonClient({ url: io.tritonUrl });
  try {
    return await work(client);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)} (Triton at ${io.tritonUrl})`);
    return 1;
  } finally {
    client.close();
  }
}
