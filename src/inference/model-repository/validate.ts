/**
 * Checks a Triton model repository against Morgan's tensor contract: each role's model exists and
 * its config.pbtxt declares the tensors, datatypes, decoupled mode and sequence controls the stage
 * adapters rely on. Returns every problem, each naming the model and what is wrong.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODEL_CONTRACTS, type ModelContract, type TensorSpec } from "../contract";
import { PbtxtError, type TextMessage, type TextValue, parsePbtxt, repeated } from "./pbtxt";

export type ModelNamesByRole = Record<ModelContract["role"], string>;

export const DEFAULT_MODEL_NAMES: ModelNamesByRole = { vad: "vad", stt: "stt", llm: "llm", tts: "tts", turn: "turn" };

export function validateRepository(repository: string, names: ModelNamesByRole = DEFAULT_MODEL_NAMES): string[] {
  return MODEL_CONTRACTS.flatMap((contract) => validateModel(repository, names[contract.role], contract));
}

function validateModel(repository: string, name: string, contract: ModelContract): string[] {
  const file = join(repository, name, "config.pbtxt");
  if (!existsSync(file)) return [`${name} (${contract.role}): no ${file}`];
  let config: TextMessage;
  try {
    config = parsePbtxt(readFileSync(file, "utf8"));
  } catch (error) {
    if (error instanceof PbtxtError) return [`${name}: config.pbtxt does not parse: ${error.message}`];
    throw error;
  }
  const problems: string[] = [];
  if (config.name !== undefined && config.name !== name) problems.push(`${name}: config names the model "${String(config.name)}"`);
  problems.push(...checkTensors(name, "input", repeated(config.input), contract.inputs));
  problems.push(...checkTensors(name, "output", repeated(config.output), contract.outputs));
  const decoupled = field(field(config, "model_transaction_policy"), "decoupled") === true;
  if (decoupled !== contract.decoupled) problems.push(`${name}: must ${contract.decoupled ? "" : "not "}be decoupled (model_transaction_policy)`);
  if (contract.sequenceControls) problems.push(...checkSequenceControls(name, config, contract.sequenceControls));
  return problems;
}

function checkTensors(model: string, direction: string, declared: TextValue[], expected: TensorSpec[]): string[] {
  const byName = new Map(declared.map((t) => [String(field(t, "name")), t]));
  return expected.flatMap((spec) => {
    const tensor = byName.get(spec.name);
    if (!tensor) return spec.optional ? [] : [`${model}: ${direction} ${spec.name} is missing`];
    const problems: string[] = [];
    const dataType = field(tensor, "data_type");
    if (dataType !== spec.dataType) problems.push(`${model}: ${direction} ${spec.name} is ${String(dataType)}, expected ${spec.dataType}`);
    const dims = repeated(field(tensor, "dims")).map(Number);
    if (dims.join(",") !== spec.dims.join(",")) problems.push(`${model}: ${direction} ${spec.name} has dims [${dims}], expected [${spec.dims}]`);
    return problems;
  });
}

function checkSequenceControls(model: string, config: TextMessage, required: string[]): string[] {
  const batching = field(config, "sequence_batching");
  if (batching === undefined) return [`${model}: needs sequence_batching (it keeps state per stream)`];
  const kinds = new Set(
    repeated(field(batching, "control_input")).flatMap((input) => repeated(field(input, "control")).map((c) => String(field(c, "kind")))),
  );
  return required.filter((kind) => !kinds.has(kind)).map((kind) => `${model}: sequence_batching lacks a ${kind} control input`);
}

function field(message: TextValue | undefined, name: string): TextValue | undefined {
  if (message === undefined || typeof message !== "object" || Array.isArray(message)) return undefined;
  return message[name];
}
