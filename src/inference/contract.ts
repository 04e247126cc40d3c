/**
 * Morgan's tensor contract with its five models (docs/contract.md), as data: the model repository
 * validator checks every config.pbtxt against it, so the CPU and GPU repositories cannot drift
 * from what the stage adapters send and read.
 */
export type TritonDataType = "TYPE_FP32" | "TYPE_STRING" | "TYPE_BOOL" | "TYPE_INT32" | "TYPE_UINT64";

export interface TensorSpec {
  name: string;
  dataType: TritonDataType;
  /** Dims without the batch dimension, as config.pbtxt writes them. */
  dims: number[];
  optional?: boolean;
}

export interface ModelContract {
  role: "vad" | "stt" | "llm" | "tts" | "turn";
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  decoupled: boolean;
  /** Stateful models need Triton's sequence batcher with these controls. */
  sequenceControls?: string[];
}

const SEQUENCE_CONTROLS = ["CONTROL_SEQUENCE_START", "CONTROL_SEQUENCE_END", "CONTROL_SEQUENCE_READY", "CONTROL_SEQUENCE_CORRID"];

export const MODEL_CONTRACTS: readonly ModelContract[] = [
  {
    role: "vad",
    inputs: [{ name: "AUDIO", dataType: "TYPE_FP32", dims: [-1] }],
    outputs: [{ name: "PROBS", dataType: "TYPE_FP32", dims: [-1] }],
    decoupled: false,
    sequenceControls: SEQUENCE_CONTROLS,
  },
  {
    role: "stt",
    inputs: [{ name: "WAV", dataType: "TYPE_FP32", dims: [-1] }],
    outputs: [
      { name: "TRANSCRIPTS", dataType: "TYPE_STRING", dims: [1] },
      { name: "IS_FINAL", dataType: "TYPE_BOOL", dims: [1] },
      { name: "CONFIDENCE", dataType: "TYPE_FP32", dims: [1] },
    ],
    decoupled: true,
    sequenceControls: SEQUENCE_CONTROLS,
  },
  {
    role: "llm",
    inputs: [
      { name: "text_input", dataType: "TYPE_STRING", dims: [1] },
      { name: "stream", dataType: "TYPE_BOOL", dims: [1], optional: true },
      { name: "sampling_parameters", dataType: "TYPE_STRING", dims: [1], optional: true },
      { name: "exclude_input_in_output", dataType: "TYPE_BOOL", dims: [1], optional: true },
    ],
    outputs: [{ name: "text_output", dataType: "TYPE_STRING", dims: [-1] }],
    decoupled: true,
  },
  {
    role: "tts",
    inputs: [
      { name: "target_text", dataType: "TYPE_STRING", dims: [1] },
      { name: "voice", dataType: "TYPE_STRING", dims: [1], optional: true },
      { name: "speed", dataType: "TYPE_FP32", dims: [1], optional: true },
    ],
    outputs: [
      { name: "waveform", dataType: "TYPE_FP32", dims: [-1] },
      { name: "sample_rate", dataType: "TYPE_INT32", dims: [1] },
    ],
    decoupled: true,
  },
  {
    role: "turn",
    // A request carries exactly one: the audio (Smart Turn) or the words so far (the text check).
    inputs: [
      { name: "AUDIO", dataType: "TYPE_FP32", dims: [-1], optional: true },
      { name: "TRANSCRIPT", dataType: "TYPE_STRING", dims: [1], optional: true },
    ],
    outputs: [{ name: "PROBABILITY", dataType: "TYPE_FP32", dims: [1] }],
    decoupled: false,
  },
];
