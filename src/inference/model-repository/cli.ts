/**
 * `bun run models <command>`: operators' tool for Triton's model repository, the same functions as
 * the admin API (/v1/admin/models) through the same implementation (./repository.ts).
 *
 *   validate [DIR...]     check config.pbtxt files against Morgan's tensor contract
 *                         (default: triton-models/cpu and triton-models/gpu)
 *   validate --server     check the configurations the running Triton serves (TRITON_URL)
 *   list                  models of the running Triton: state and statistics
 *   load NAME | unload NAME | reload NAME
 *                         through Triton's repository API (explicit model control); unload
 *                         reports a model that does not finish unloading within the timeout
 */
import { join } from "node:path";
import { TritonClient } from "@triton-client";
import { ModelRepository, ModelRepositoryError } from "./repository";
import { type ModelNamesByRole, validateRepository } from "./validate";

const USAGE = "usage: bun run models validate [DIR...] | validate --server | list | load NAME | unload NAME | reload NAME";
const DEFAULT_REPOSITORIES = ["cpu", "gpu"].map((set) => join(import.meta.dir, "../../../triton-models", set));

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  tritonUrl: string;
  /** The model of each role (configuration; defaults for the roles it does not name). */
  modelNames: ModelNamesByRole;
  /** How long load and unload may take before the model is reported stuck. */
  timeoutMs: number;
}

/** Runs one command; resolves with the process exit code. */
export async function runModelsCli(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === "validate" && rest.length === 1 && rest[0] === "--server") return withRepository(io, (models) => validateServer(models, io));
  if (command === "validate") return validateFiles(rest.length > 0 ? rest : DEFAULT_REPOSITORIES, io);
  if (command === "list" && rest.length === 0) return withRepository(io, (models) => list(models, io));
  if ((command === "load" || command === "unload" || command === "reload") && rest.length === 1) {
    const name = rest[0]!;
    return withRepository(io, async (models) => {
      const result = await models.change(command, name);
      io.out(`${command}ed ${name} in ${result.durationMs} ms (${result.state})`);
      return 0;
    });
  }
  io.err(USAGE);
  return 2;
}

function validateFiles(repositories: string[], io: CliIo): number {
  let failed = false;
  for (const repository of repositories) {
    const problems = validateRepository(repository, io.modelNames);
    if (problems.length === 0) io.out(`ok    ${repository}`);
    for (const problem of problems) io.err(`FAIL  ${repository}: ${problem}`);
    failed ||= problems.length > 0;
  }
  return failed ? 1 : 0;
}

async function validateServer(models: ModelRepository, io: CliIo): Promise<number> {
  const problems = await models.validate();
  if (problems.length === 0) io.out(`ok    Triton at ${io.tritonUrl}`);
  for (const problem of problems) io.err(`FAIL  Triton at ${io.tritonUrl}: ${problem}`);
  return problems.length > 0 ? 1 : 0;
}

async function list(models: ModelRepository, io: CliIo): Promise<number> {
  const columns = (cells: string[]) => cells.map((cell, i) => cell.padEnd([16, 8, 12, 5, 10, 9, 10, 10][i] ?? 0)).join(" ").trimEnd();
  io.out(columns(["model", "version", "state", "role", "requests", "failures", "queue_s", "compute_s", "reason"]));
  for (const m of await models.list()) {
    const s = m.statistics;
    const stats = s ? [String(s.requests), String(s.failures), s.queueS.toFixed(3), s.computeS.toFixed(3)] : ["-", "-", "-", "-"];
    io.out(columns([m.name, m.version || "-", m.state, m.role ?? "-", ...stats, m.reason]));
  }
  return 0;
}

async function withRepository(io: CliIo, work: (models: ModelRepository) => Promise<number>): Promise<number> {
  const client = new TritonClient({ url: io.tritonUrl });
  try {
    return await work(new ModelRepository(client, { names: io.modelNames, timeoutMs: io.timeoutMs }));
  } catch (error) {
    if (error instanceof ModelRepositoryError && error.kind === "invalid_name") {
      io.err(error.message);
      return 2;
    }
    io.err(`${error instanceof Error ? error.message : String(error)} (Triton at ${io.tritonUrl})`);
    return 1;
  } finally {
    client.close();
  }
}
