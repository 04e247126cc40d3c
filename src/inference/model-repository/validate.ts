/**
 * Checks models against Morgan's tensor contract: each role's model exists and declares the tensors,
 * datatypes, decoupled mode and sequence controls the stage adapters rely on. The same check reads
 * either a repository on disk (config.pbtxt files) or the configurations a running Triton has loaded.
 * Returns every problem, each naming the model and what is wrong.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelConfig, TritonClient } from "@triton-client";
import { MODEL_CONTRACTS, type ModelContract, type TensorSpec } from "../contract";
import { PbtxtError, type TextMessage, type TextValue, parsePbtxt, repeated } from "./pbtxt";

/** The Triton model of each role of the contract (Morgan's configuration names four of them). */
export type ModelNamesByRole = Record<ModelContract["role"], string>;

export const DEFAULT_MODEL_NAMES: ModelNamesByRole = { vad: "vad", stt: "stt", llm: "llm", tts: "tts", turn: "turn" };

/** What the contract constrains in a model's configuration, wherever it was read from. */
export interface ConfigView {
  name?: string;
  inputs: TensorView[];
  outputs: TensorView[];
  decoupled: boolean;
  /** The control kinds of its sequence batcher; undefined without one. */
  sequenceControls?: string[];
}

interface TensorView {
  name: string;
  dataType: string;
  dims: number[];
}

/** A repository on disk. */
export function validateRepository(repository: string, names: ModelNamesByRole = DEFAULT_MODEL_NAMES): string[] {
  return MODEL_CONTRACTS.flatMap((contract) => {
    const name = names[contract.role];
    const file = join(repository, name, "config.pbtxt");
    if (!existsSync(file)) return [`${name} (${contract.role}): no ${file}`];
    let config: TextMessage;
    try {
      config = parsePbtxt(readFileSync(file, "utf8"));
    } catch (error) {
      if (error instanceof PbtxtError) return [`${name}: config.pbtxt does not parse: ${error.message}`];
      throw error;
    }
    return checkConfig(name, viewOfPbtxt(config), contract);
  });
}

/** The configurations a running Triton serves (a model that is not loaded is a problem too). */
export async function validateServer(client: TritonClient, names: ModelNamesByRole, deadlineMs: number): Promise<string[]> {
  const problems = await Promise.all(
    MODEL_CONTRACTS.map(async (contract) => {
      const name = names[contract.role];
      try {
        return checkConfig(name, viewOfTriton(await client.modelConfig(name, "", { deadlineMs })), contract);
      } catch (error) {
        return [`${name} (${contract.role}): Triton has no configuration for it (${error instanceof Error ? error.message : String(error)})`];
      }
    }),
  );
  return problems.flat();
}

export function checkConfig(name: string, config: ConfigView, contract: ModelContract): string[] {
  const problems: string[] = [];
  if (config.name !== undefined && config.name !== name) problems.push(`${name}: config names the model "${config.name}"`);
  problems.push(...checkTensors(name, "input", config.inputs, contract.inputs));
  problems.push(...checkTensors(name, "output", config.outputs, contract.outputs));
  if (config.decoupled !== contract.decoupled) problems.push(`${name}: must ${contract.decoupled ? "" : "not "}be decoupled (model_transaction_policy)`);
  if (contract.sequenceControls) {
    if (!config.sequenceControls) problems.push(`${name}: needs sequence_batching (it keeps state per stream)`);
    else {
      const missing = contract.sequenceControls.filter((kind) => !config.sequenceControls!.includes(kind));
      problems.push(...missing.map((kind) => `${name}: sequence_batching lacks a ${kind} control input`));
    }
  }
  return problems;
}

function checkTensors(model: string, direction: string, declared: TensorView[], expected: TensorSpec[]): string[] {
  const byName = new Map(declared.map((tensor) => [tensor.name, tensor]));
  return expected.flatMap((spec) => {
    const tensor = byName.get(spec.name);
    if (!tensor) return spec.optional ? [] : [`${model}: ${direction} ${spec.name} is missing`];
    const problems: string[] = [];
    if (tensor.dataType !== spec.dataType) problems.push(`${model}: ${direction} ${spec.name} is ${tensor.dataType}, expected ${spec.dataType}`);
    if (tensor.dims.join(",") !== spec.dims.join(",")) {
      problems.push(`${model}: ${direction} ${spec.name} has dims [${tensor.dims}], expected [${spec.dims}]`);
    }
    return problems;
  });
}

function viewOfPbtxt(config: TextMessage): ConfigView {
  const tensors = (list: TextValue | undefined): TensorView[] =>
    repeated(list).map((tensor) => ({
      name: String(field(tensor, "name")),
      dataType: String(field(tensor, "data_type")),
      dims: repeated(field(tensor, "dims")).map(Number),
    }));
  const batching = field(config, "sequence_batching");
  return {
    name: config.name === undefined ? undefined : String(config.name),
    inputs: tensors(config.input),
    outputs: tensors(config.output),
    decoupled: field(field(config, "model_transaction_policy"), "decoupled") === true,
    sequenceControls:
      batching === undefined
        ? undefined
        : repeated(field(batching, "control_input")).flatMap((input) => repeated(field(input, "control")).map((c) => String(field(c, "kind")))),
  };
}

function viewOfTriton(config: ModelConfig): ConfigView {
  const tensors = (list: { name: string; data_type: string; dims: string[] }[]): TensorView[] =>
    list.map((tensor) => ({ name: tensor.name, dataType: tensor.data_type, dims: tensor.dims.map(Number) }));
  return {
    name: config.name,
    inputs: tensors(config.input),
    outputs: tensors(config.output),
    decoupled: config.model_transaction_policy?.decoupled === true,
    sequenceControls: config.sequence_batching ? config.sequence_batching.control_input.flatMap((input) => input.control.map((c) => c.kind)) : undefined,
  };
}

function field(message: TextValue | undefined, name: string): TextValue | undefined {
  if (message === undefined || typeof message !== "object" || Array.isArray(message)) return undefined;
  return message[name];
}
