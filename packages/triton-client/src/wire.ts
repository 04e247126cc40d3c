/**
 * Hand-written protobuf wire codec for the three hot messages: the
 * ModelInferRequest we send and the ModelInferResponse /
 * ModelStreamInferResponse we receive, once per streamed message.
 *
 * Why: proto-loader's generic path (protobufjs fromObject/encode and
 * decode/toObject) cost ~20 µs per message each way, more than everything
 * else the client does. This codec produces and accepts exactly the object
 * shapes proto-loader would (same generated types, same options: keepCase,
 * longs as strings, enums as strings, defaults, oneofs), which
 * tests/wire.test.ts checks against protobufjs on random messages.
 * Output tensor bytes are returned as views on the received buffer (no copy).
 * Rarely used parts (typed tensor contents) are delegated to protobufjs.
 */
import type { InferParameter, InferParameter__Output } from "./generated/inference/InferParameter";
import type { InferTensorContents__Output } from "./generated/inference/InferTensorContents";
import type { ModelInferRequest } from "./generated/inference/ModelInferRequest";
import type { ModelInferResponse__Output } from "./generated/inference/ModelInferResponse";
import type { ModelStreamInferResponse__Output } from "./generated/inference/ModelStreamInferResponse";

// ---------------------------------------------------------------- encoding

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;

const TWO_32 = 2 ** 32;

function varintSize(value: number): number {
  // value is a non-negative safe integer here.
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** An int64/uint64 as its unsigned 64-bit varint payload. Fast path for small non-negative numbers. */
type Int64Like = number | string | bigint | { toString(): string };

function toUint64(value: Int64Like): number | bigint {
  if (typeof value === "number" && value >= 0 && Number.isSafeInteger(value)) return value;
  const big = typeof value === "bigint" ? value : BigInt(typeof value === "number" ? Math.trunc(value) : value.toString());
  const unsigned = BigInt.asUintN(64, big);
  return unsigned <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(unsigned) : unsigned;
}

function uint64Size(value: number | bigint): number {
  if (typeof value === "number") return varintSize(value);
  let size = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    size++;
  }
  return size;
}

function tagSize(field: number): number {
  return varintSize(field << 3);
}

function lengthDelimitedSize(field: number, length: number): number {
  return tagSize(field) + varintSize(length) + length;
}

class ByteWriter {
  readonly buffer: Buffer;
  private position = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  get offset(): number {
    return this.position;
  }

  varint(value: number): void {
    while (value >= 0x80) {
      this.buffer[this.position++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.position++] = value;
  }

  uint64(value: number | bigint): void {
    if (typeof value === "number") return this.varint(value);
    while (value >= 0x80n) {
      this.buffer[this.position++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buffer[this.position++] = Number(value);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  string(field: number, value: string, byteLength: number): void {
    this.tag(field, WIRE_LENGTH);
    this.varint(byteLength);
    this.position += this.buffer.write(value, this.position, byteLength, "utf8");
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LENGTH);
    this.varint(value.byteLength);
    this.buffer.set(value, this.position);
    this.position += value.byteLength;
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64);
    this.buffer.writeDoubleLE(value, this.position);
    this.position += 8;
  }

  header(field: number, length: number): void {
    this.tag(field, WIRE_LENGTH);
    this.varint(length);
  }
}

/** Pre-computed sizes, so each message is laid out in one buffer with one pass of writes. */
interface Sized<T> {
  value: T;
  size: number;
}

type ParameterMap = Record<string, InferParameter> | undefined;

interface SizedParameter {
  key: string;
  keyBytes: number;
  parameter: InferParameter;
  /** Encoded InferParameter size and the pre-converted value it needs. */
  valueSize: number;
  choice: "bool" | "int64" | "uint64" | "string" | "double" | "none";
  number?: number | bigint;
  stringBytes?: number;
  entrySize: number;
}

function sizeParameter(key: string, parameter: InferParameter): SizedParameter {
  const keyBytes = Buffer.byteLength(key);
  let valueSize = 0;
  let choice: SizedParameter["choice"] = "none";
  let number: number | bigint | undefined;
  let stringBytes: number | undefined;
  if (parameter.bool_param !== undefined) {
    choice = "bool";
    valueSize = 2;
  } else if (parameter.int64_param !== undefined) {
    choice = "int64";
    number = toUint64(parameter.int64_param as Int64Like);
    valueSize = 1 + uint64Size(number);
  } else if (parameter.string_param !== undefined) {
    choice = "string";
    stringBytes = Buffer.byteLength(parameter.string_param);
    valueSize = lengthDelimitedSize(3, stringBytes);
  } else if (parameter.double_param !== undefined) {
    choice = "double";
    valueSize = 9;
  } else if (parameter.uint64_param !== undefined) {
    choice = "uint64";
    number = toUint64(parameter.uint64_param as Int64Like);
    valueSize = 1 + uint64Size(number);
  }
  const entrySize = lengthDelimitedSize(1, keyBytes) + lengthDelimitedSize(2, valueSize);
  return { key, keyBytes, parameter, valueSize, choice, number, stringBytes, entrySize };
}

function sizeParameters(field: number, parameters: ParameterMap): Sized<SizedParameter[]> {
  const entries: SizedParameter[] = [];
  let size = 0;
  if (parameters) {
    for (const key in parameters) {
      const entry = sizeParameter(key, parameters[key]!);
      entries.push(entry);
      size += lengthDelimitedSize(field, entry.entrySize);
    }
  }
  return { value: entries, size };
}

function writeParameters(writer: ByteWriter, field: number, entries: SizedParameter[]): void {
  for (const entry of entries) {
    writer.header(field, entry.entrySize);
    writer.string(1, entry.key, entry.keyBytes);
    writer.header(2, entry.valueSize);
    const parameter = entry.parameter;
    switch (entry.choice) {
      case "bool":
        writer.tag(1, WIRE_VARINT);
        writer.varint(parameter.bool_param ? 1 : 0);
        break;
      case "int64":
        writer.tag(2, WIRE_VARINT);
        writer.uint64(entry.number!);
        break;
      case "string":
        writer.string(3, parameter.string_param!, entry.stringBytes!);
        break;
      case "double":
        writer.double(4, Number(parameter.double_param));
        break;
      case "uint64":
        writer.tag(5, WIRE_VARINT);
        writer.uint64(entry.number!);
        break;
      case "none":
        break;
    }
  }
}

interface SizedInput {
  name: string;
  nameBytes: number;
  datatype: string;
  datatypeBytes: number;
  shape: (number | bigint)[];
  shapeBytes: number;
  parameters: Sized<SizedParameter[]>;
  size: number;
}

/**
 * Serialises a ModelInferRequest. Typed `contents` on inputs are not
 * supported here (the client always sends raw_input_contents); such a
 * message must go through protobufjs instead.
 */
export function encodeModelInferRequest(request: ModelInferRequest): Buffer {
  const modelName = request.model_name ?? "";
  const modelVersion = request.model_version ?? "";
  const id = request.id ?? "";
  const modelNameBytes = Buffer.byteLength(modelName);
  const modelVersionBytes = Buffer.byteLength(modelVersion);
  const idBytes = Buffer.byteLength(id);
  let size = 0;
  if (modelNameBytes) size += lengthDelimitedSize(1, modelNameBytes);
  if (modelVersionBytes) size += lengthDelimitedSize(2, modelVersionBytes);
  if (idBytes) size += lengthDelimitedSize(3, idBytes);
  const parameters = sizeParameters(4, request.parameters);
  size += parameters.size;

  const inputs: SizedInput[] = [];
  for (const input of request.inputs ?? []) {
    if (input.contents) throw new Error("encodeModelInferRequest: typed input contents are not supported; use raw_input_contents");
    const name = input.name ?? "";
    const datatype = input.datatype ?? "";
    const nameBytes = Buffer.byteLength(name);
    const datatypeBytes = Buffer.byteLength(datatype);
    const shape = (input.shape ?? []).map((dim) => toUint64(dim as Int64Like));
    let shapeBytes = 0;
    for (const dim of shape) shapeBytes += uint64Size(dim);
    const inputParameters = sizeParameters(4, input.parameters);
    let inputSize = inputParameters.size;
    if (nameBytes) inputSize += lengthDelimitedSize(1, nameBytes);
    if (datatypeBytes) inputSize += lengthDelimitedSize(2, datatypeBytes);
    if (shape.length) inputSize += lengthDelimitedSize(3, shapeBytes);
    inputs.push({ name, nameBytes, datatype, datatypeBytes, shape, shapeBytes, parameters: inputParameters, size: inputSize });
    size += lengthDelimitedSize(5, inputSize);
  }

  const outputs: { name: string; nameBytes: number; parameters: Sized<SizedParameter[]>; size: number }[] = [];
  for (const output of request.outputs ?? []) {
    const name = output.name ?? "";
    const nameBytes = Buffer.byteLength(name);
    const outputParameters = sizeParameters(2, output.parameters);
    const outputSize = (nameBytes ? lengthDelimitedSize(1, nameBytes) : 0) + outputParameters.size;
    outputs.push({ name, nameBytes, parameters: outputParameters, size: outputSize });
    size += lengthDelimitedSize(6, outputSize);
  }

  const raw: Uint8Array[] = [];
  for (const contents of request.raw_input_contents ?? []) {
    const bytes = typeof contents === "string" ? Buffer.from(contents, "base64") : contents;
    raw.push(bytes);
    size += lengthDelimitedSize(7, bytes.byteLength);
  }

  const writer = new ByteWriter(size);
  if (modelNameBytes) writer.string(1, modelName, modelNameBytes);
  if (modelVersionBytes) writer.string(2, modelVersion, modelVersionBytes);
  if (idBytes) writer.string(3, id, idBytes);
  writeParameters(writer, 4, parameters.value);
  for (const input of inputs) {
    writer.header(5, input.size);
    if (input.nameBytes) writer.string(1, input.name, input.nameBytes);
    if (input.datatypeBytes) writer.string(2, input.datatype, input.datatypeBytes);
    if (input.shape.length) {
      writer.header(3, input.shapeBytes);
      for (const dim of input.shape) writer.uint64(dim);
    }
    writeParameters(writer, 4, input.parameters.value);
  }
  for (const output of outputs) {
    writer.header(6, output.size);
    if (output.nameBytes) writer.string(1, output.name, output.nameBytes);
    writeParameters(writer, 2, output.parameters.value);
  }
  for (const bytes of raw) writer.bytes(7, bytes);
  if (writer.offset !== size) throw new Error(`encodeModelInferRequest: wrote ${writer.offset} of ${size} bytes`);
  return writer.buffer;
}

// ---------------------------------------------------------------- decoding

class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

class ByteReader {
  position: number;

  constructor(
    readonly buffer: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  /** Varints that fit in 32 bits (tags, lengths, bools, enum numbers). */
  varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.position >= this.end) throw new WireFormatError("truncated varint");
      const byte = this.buffer[this.position++]!;
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else if (shift < 64) result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift >= 70) throw new WireFormatError("varint too long");
    }
  }

  /** A 64-bit varint as a decimal string, signed or not (longs: String). */
  varint64(signed: boolean): string {
    let low = 0;
    let high = 0;
    let shift = 0;
    for (;;) {
      if (this.position >= this.end) throw new WireFormatError("truncated varint");
      const byte = this.buffer[this.position++]!;
      const bits = byte & 0x7f;
      if (shift < 28) low |= bits << shift;
      else if (shift === 28) {
        low |= (bits & 0x0f) << 28;
        high |= bits >>> 4;
      } else if (shift < 64) high |= bits << (shift - 32);
      if (byte < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new WireFormatError("varint too long");
    }
    low >>>= 0;
    high >>>= 0;
    if (signed && high & 0x80000000) {
      return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
    }
    if (high < 0x200000) return String(high * TWO_32 + low);
    return ((BigInt(high) << 32n) | BigInt(low)).toString();
  }

  length(): number {
    const length = this.varint32();
    if (this.position + length > this.end) throw new WireFormatError("length-delimited field overruns its message");
    return length;
  }

  string(): string {
    const length = this.length();
    const value = this.buffer.toString("utf8", this.position, this.position + length);
    this.position += length;
    return value;
  }

  bytes(): Buffer {
    const length = this.length();
    // A view, not a copy: output tensors stay on the received buffer.
    const value = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  sub(): ByteReader {
    const length = this.length();
    const reader = new ByteReader(this.buffer, this.position, this.position + length);
    this.position += length;
    return reader;
  }

  double(): number {
    if (this.position + 8 > this.end) throw new WireFormatError("truncated double");
    const value = this.buffer.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64(false);
        return;
      case 1:
        this.position += 8;
        break;
      case 2:
        this.position += this.length();
        return;
      case 5:
        this.position += 4;
        break;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
    if (this.position > this.end) throw new WireFormatError("truncated field");
  }
}

function readParameter(reader: ByteReader): InferParameter__Output {
  const parameter: InferParameter__Output = {};
  while (!reader.done) {
    const tag = reader.varint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    switch (field) {
      case 1:
        clearChoice(parameter);
        parameter.bool_param = reader.varint32() !== 0;
        parameter.parameter_choice = "bool_param";
        break;
      case 2:
        clearChoice(parameter);
        parameter.int64_param = reader.varint64(true);
        parameter.parameter_choice = "int64_param";
        break;
      case 3:
        clearChoice(parameter);
        parameter.string_param = reader.string();
        parameter.parameter_choice = "string_param";
        break;
      case 4:
        clearChoice(parameter);
        parameter.double_param = reader.double();
        parameter.parameter_choice = "double_param";
        break;
      case 5:
        clearChoice(parameter);
        parameter.uint64_param = reader.varint64(false);
        parameter.parameter_choice = "uint64_param";
        break;
      default:
        reader.skip(wireType);
    }
  }
  return parameter;
}

/** A later oneof member replaces an earlier one (protobuf semantics). */
function clearChoice(parameter: InferParameter__Output): void {
  if (parameter.parameter_choice) delete parameter[parameter.parameter_choice];
}

function readParameterEntry(reader: ByteReader, into: Record<string, InferParameter__Output>): void {
  let key = "";
  let value: InferParameter__Output | undefined;
  while (!reader.done) {
    const tag = reader.varint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) key = reader.string();
    else if (tag === ((2 << 3) | WIRE_LENGTH)) value = readParameter(reader.sub());
    else reader.skip(tag & 7);
  }
  into[key] = value ?? {};
}

/**
 * Typed contents are rare on the response path (Triton answers with raw
 * bytes), so they are handed to proto-loader's own ModelInferResponse
 * deserializer: the contents bytes are wrapped as outputs[0].contents of an
 * otherwise empty response, which yields exactly proto-loader's object shape.
 */
export type ModelInferResponseDeserializer = (bytes: Buffer) => ModelInferResponse__Output;
let contentsDecoder: ((bytes: Buffer) => InferTensorContents__Output) | undefined;

export function useProtoLoaderForTypedContents(deserialize: ModelInferResponseDeserializer): void {
  contentsDecoder = (bytes) => {
    const tensorSize = lengthDelimitedSize(5, bytes.byteLength);
    const writer = new ByteWriter(lengthDelimitedSize(5, tensorSize));
    writer.header(5, tensorSize);
    writer.bytes(5, bytes);
    const contents = deserialize(writer.buffer).outputs[0]?.contents;
    if (!contents) throw new WireFormatError("typed tensor contents could not be decoded");
    return contents;
  };
}

type OutputTensor = ModelInferResponse__Output["outputs"][number];

function readOutputTensor(reader: ByteReader): OutputTensor {
  const tensor: OutputTensor = { name: "", datatype: "", shape: [], parameters: {}, contents: null };
  while (!reader.done) {
    const tag = reader.varint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === WIRE_LENGTH) tensor.name = reader.string();
    else if (field === 2 && wireType === WIRE_LENGTH) tensor.datatype = reader.string();
    else if (field === 3 && wireType === WIRE_LENGTH) {
      const packed = reader.sub();
      while (!packed.done) tensor.shape.push(packed.varint64(true));
    } else if (field === 3 && wireType === WIRE_VARINT) tensor.shape.push(reader.varint64(true));
    else if (field === 4 && wireType === WIRE_LENGTH) readParameterEntry(reader.sub(), tensor.parameters);
    else if (field === 5 && wireType === WIRE_LENGTH) {
      if (!contentsDecoder) throw new WireFormatError("typed tensor contents received but no decoder is installed");
      tensor.contents = contentsDecoder(reader.bytes());
    } else reader.skip(wireType);
  }
  return tensor;
}

function readInferResponse(reader: ByteReader): ModelInferResponse__Output {
  const response: ModelInferResponse__Output = {
    model_name: "",
    model_version: "",
    id: "",
    parameters: {},
    outputs: [],
    raw_output_contents: [],
  };
  while (!reader.done) {
    const tag = reader.varint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType !== WIRE_LENGTH) {
      reader.skip(wireType);
      continue;
    }
    switch (field) {
      case 1:
        response.model_name = reader.string();
        break;
      case 2:
        response.model_version = reader.string();
        break;
      case 3:
        response.id = reader.string();
        break;
      case 4:
        readParameterEntry(reader.sub(), response.parameters);
        break;
      case 5:
        response.outputs.push(readOutputTensor(reader.sub()));
        break;
      case 6:
        response.raw_output_contents.push(reader.bytes());
        break;
      default:
        reader.skip(wireType);
    }
  }
  return response;
}

export function decodeModelInferResponse(buffer: Buffer): ModelInferResponse__Output {
  return readInferResponse(new ByteReader(buffer, 0, buffer.length));
}

export function decodeModelStreamInferResponse(buffer: Buffer): ModelStreamInferResponse__Output {
  const reader = new ByteReader(buffer, 0, buffer.length);
  const message: ModelStreamInferResponse__Output = { error_message: "", infer_response: null };
  while (!reader.done) {
    const tag = reader.varint32();
    if (tag === ((1 << 3) | WIRE_LENGTH)) message.error_message = reader.string();
    else if (tag === ((2 << 3) | WIRE_LENGTH)) message.infer_response = readInferResponse(reader.sub());
    else reader.skip(tag & 7);
  }
  return message;
}
