/**
 * Cases only a misbehaving peer can produce (malformed tensors, unknown ids,
 * abrupt stream ends), using a TEST gRPC SERVER built from the same generated
 * definitions as the client. It is not Triton; everything Triton can do is
 * tested against the real server in the other files.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { GrpcStatus, TritonClient, TritonError } from "@triton-client";
import { tritonProto } from "../src/grpc-definition";
import type { ModelInferRequest__Output } from "../src/generated/inference/ModelInferRequest";
import type { ModelStreamInferResponse } from "../src/generated/inference/ModelStreamInferResponse";
import { drain } from "./fixtures";

type StreamCall = grpc.ServerDuplexStream<ModelInferRequest__Output, ModelStreamInferResponse>;

const seenMetadata: Record<string, string>[] = [];
let server: grpc.Server;
let url: string;

const fp32Output = (values: number[]) => ({ name: "OUT", datatype: "FP32", shape: [values.length], parameters: {} });
const fp32Bytes = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
const finalParameter = (final: boolean) => ({ triton_final_response: { bool_param: final } });

/** What the test peer does for each model name it is asked about. */
function behave(call: StreamCall, request: ModelInferRequest__Output): void {
  const id = request.id;
  switch (request.model_name) {
    case "echo":
      // Noise first: a response and an error for ids nobody asked about must be ignored.
      call.write({ infer_response: { id: "nobody", outputs: [fp32Output([9])], raw_output_contents: [fp32Bytes([9])] } });
      call.write({ error_message: "error for an unknown request", infer_response: { id: "nobody-either" } });
      call.write({ infer_response: { id, model_name: "echo", parameters: finalParameter(false), outputs: [fp32Output([1, 2])], raw_output_contents: [fp32Bytes([1, 2])] } });
      call.write({ infer_response: { id, model_name: "echo", parameters: finalParameter(true), outputs: [fp32Output([3])], raw_output_contents: [fp32Bytes([3])] } });
      return;
    case "typed-contents":
      // Older servers and other KServe implementations may use typed contents instead of raw bytes.
      call.write({
        infer_response: {
          id, parameters: finalParameter(true),
          outputs: [
            { ...fp32Output([0.5, 1.5]), contents: { fp32_contents: [0.5, 1.5] } },
            { name: "IDS", datatype: "INT64", shape: [2], contents: { int64_contents: ["-3", "9007199254740993"] } },
            { name: "TEXT", datatype: "BYTES", shape: [1], contents: { bytes_contents: [Buffer.from("hi")] } },
          ],
        },
      });
      return;
    case "garbled":
      // Shape says 4 floats, only 3 bytes arrive.
      call.write({ infer_response: { id, parameters: finalParameter(true), outputs: [fp32Output([1, 2, 3, 4])], raw_output_contents: [Buffer.from([1, 2, 3])] } });
      return;
    case "hang":
      return;
    case "end-stream":
      call.end();
      return;
    case "abort-stream":
      call.emit("error", { code: grpc.status.INTERNAL, details: "peer blew up" });
      return;
    default:
      call.write({ error_message: `unknown model ${request.model_name}`, infer_response: { id } });
  }
}

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(tritonProto().inference.GRPCInferenceService.service, {
    ServerLive: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ live: boolean }>) => {
      seenMetadata.push(flatten(call.metadata));
      callback(null, { live: true });
    },
    ModelStreamInfer: (call: StreamCall) => {
      seenMetadata.push(flatten(call.metadata));
      call.on("data", (request: ModelInferRequest__Output) => behave(call, request));
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  } as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  url = `127.0.0.1:${port}`;
});

afterAll(() => {
  server?.forceShutdown();
});

function flatten(metadata: grpc.Metadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata.getMap()).map(([key, value]) => [key, String(value)]));
}

test("client-level and per-call metadata (e.g. auth headers) reach the server, per call overriding", async () => {
  const client = new TritonClient({ url, metadata: { authorization: "Bearer client", "x-tenant": "morgan" } });
  try {
    seenMetadata.length = 0;
    await client.serverLive({ metadata: { authorization: "Bearer call" } });
    const stream = client.openStream({ metadata: { "x-stream": "yes" } });
    await drain(stream.infer({ model: "echo", inputs: [] }));
    stream.close();
    expect(seenMetadata[0]).toMatchObject({ authorization: "Bearer call", "x-tenant": "morgan" });
    expect(seenMetadata[1]).toMatchObject({ authorization: "Bearer client", "x-tenant": "morgan", "x-stream": "yes" });
  } finally {
    client.close();
  }
});

test("responses and errors for unknown request ids are ignored; the right request still gets its responses", async () => {
  const client = new TritonClient({ url });
  const stream = client.openStream();
  try {
    const { items, error } = await drain(stream.infer({ model: "echo", inputs: [] }));
    expect(error).toBeUndefined();
    expect(items.map((r) => Array.from(r.output("OUT").data as Float32Array))).toEqual([[1, 2], [3]]);
    // A final response that carries outputs is yielded, marked final.
    expect(items.map((r) => r.final)).toEqual([false, true]);
  } finally {
    stream.close();
    client.close();
  }
});

test("typed InferTensorContents are decoded like raw contents", async () => {
  const client = new TritonClient({ url });
  const stream = client.openStream();
  try {
    const { items } = await drain(stream.infer({ model: "typed-contents", inputs: [] }));
    const response = items[0]!;
    expect(Array.from(response.output("OUT").data as Float32Array)).toEqual([0.5, 1.5]);
    expect(Array.from(response.output("IDS").data as BigInt64Array)).toEqual([-3n, 9007199254740993n]);
    expect(new TextDecoder().decode((response.output("TEXT").data as Uint8Array[])[0])).toBe("hi");
  } finally {
    stream.close();
    client.close();
  }
});

test("a malformed output fails only its request with a clear error", async () => {
  const client = new TritonClient({ url });
  const stream = client.openStream();
  try {
    const garbled = drain(stream.infer({ model: "garbled", inputs: [] }));
    const fine = drain(stream.infer({ model: "echo", inputs: [] }));
    const error = (await garbled).error as TritonError;
    expect(error).toBeInstanceOf(TritonError);
    expect(error.message).toBe('output tensor "OUT" (FP32): shape [4] needs 4 elements = 16 bytes, but 3 bytes arrived');
    expect((await fine).items).toHaveLength(2);
    expect(stream.error).toBeUndefined();
  } finally {
    stream.close();
    client.close();
  }
});

test("the peer ending the stream with requests in flight fails them all, retryably, at once", async () => {
  const client = new TritonClient({ url });
  const stream = client.openStream();
  try {
    const waiting = [drain(stream.infer({ model: "hang", inputs: [] })), drain(stream.infer({ model: "hang", inputs: [] }))];
    await Bun.sleep(20);
    const started = Date.now();
    stream.infer({ model: "end-stream", inputs: [] });
    for (const result of await Promise.all(waiting)) {
      const error = result.error as TritonError;
      expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(error.retryable).toBe(true);
      expect(error.message).toBe("Triton ended the inference stream");
    }
    expect(Date.now() - started).toBeLessThan(1_000);
  } finally {
    stream.close();
    client.close();
  }
});

test("the peer aborting the stream with an error status fails in-flight requests as retryable UNAVAILABLE", async () => {
  const client = new TritonClient({ url });
  const stream = client.openStream();
  try {
    const waiting = drain(stream.infer({ model: "hang", inputs: [] }));
    await Bun.sleep(20);
    stream.infer({ model: "abort-stream", inputs: [] });
    const error = (await waiting).error as TritonError;
    expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("peer blew up");
    expect(error.message).toContain("open a new stream and retry");
  } finally {
    stream.close();
    client.close();
  }
});

test("a peer that never answers is bounded by the request's deadline", async () => {
  const client = new TritonClient({ url });
  const stream = client.openStream();
  try {
    const started = Date.now();
    const { error } = await drain(stream.infer({ model: "hang", inputs: [] }, { deadlineMs: 150 }));
    expect((error as TritonError).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1_000);
  } finally {
    stream.close();
    client.close();
  }
});
