/**
 * Benchmark: @triton-client vs NVIDIA's Python tritonclient (gRPC), same
 * server, same streamed request, same run. Not a test; run with
 *   bench/triton-client/setup.sh && bun bench/triton-client/bench.ts
 * Writes bench/results/triton-client-<timestamp>.json and prints a summary.
 *
 * 1. Latency: one long-lived stream, sequential requests to the decoupled
 *    `repeat` fixture (10 responses, no model delay): time to first response
 *    and the gap between consecutive responses, ours / reference.
 * 2. Load: 100 concurrent streams looping requests for a few seconds:
 *    client CPU per message (process CPU / (requests + responses)), sampled in
 *    100 ms windows for median/p95/p99, plus the library's own synchronous
 *    send path and receive path per message, timed individually.
 * 3. Library path per message: this package's own work per message, timed
 *    one message at a time on real bytes captured from Triton (encode a
 *    request to wire bytes; decode a streamed response to tensors), without
 *    grpc-js and the HTTP/2 stack.
 * 4. Transport floor: the load of (2) driven over bare node:http2 (gRPC
 *    framing by hand, same codec, no grpc-js), to show how much of the
 *    per-message CPU is the runtime's HTTP/2 rather than this client.
 */
import http2 from "node:http2";
import { cpus, totalmem, release } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { TritonClient, type InferRequest, type TritonStream } from "@triton-client";
import { inferenceClientConstructor, MODEL_STREAM_INFER_PATH } from "../../packages/triton-client/src/grpc-definition";
import { decodeInferResponse, encodeInferRequest, EMPTY_FINAL_RESPONSE_PARAMETER } from "../../packages/triton-client/src/request-encoding";
import { decodeModelStreamInferResponse, encodeModelInferRequest } from "../../packages/triton-client/src/wire";
import { TritonServer } from "../../packages/triton-client/tests/triton-server";
import { repeatRequest } from "../../packages/triton-client/tests/fixtures";
import { ratios, summarize } from "./stats";

const HERE = new URL("./", import.meta.url).pathname;
const RESULTS_DIR = new URL("../results/", import.meta.url).pathname;
const PYTHON = process.env.BENCH_PYTHON ?? `${HERE}.venv/bin/python`;
/** BENCH_ONLY=load-ours runs just our load phase (for quick iterations; writes no result file). */
const ONLY_OUR_LOAD = process.env.BENCH_ONLY === "load-ours";

const RESPONSES_PER_REQUEST = 10;
const LATENCY_ITERATIONS = 300;
const LATENCY_WARMUP = 30;
const ROUNDS = 3;
const LOAD_STREAMS = 100;
const LOAD_SECONDS = 6;

async function runPython(mode: "latency" | "load", url: string): Promise<Record<string, unknown>> {
  const args = [PYTHON, `${HERE}python_client.py`, mode, "--url", url, "--count", String(RESPONSES_PER_REQUEST),
    "--iterations", String(LATENCY_ITERATIONS), "--warmup", String(LATENCY_WARMUP),
    "--streams", String(LOAD_STREAMS), "--seconds", String(LOAD_SECONDS)];
  const child = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`python ${mode} failed (${code}): ${err}`);
  return JSON.parse(out) as Record<string, unknown>;
}

async function oursLatency(client: TritonClient) {
  const stream = client.openStream();
  const request = repeatRequest("ts", RESPONSES_PER_REQUEST);
  const first: number[] = [];
  const gaps: number[] = [];
  for (let iteration = 0; iteration < LATENCY_WARMUP + LATENCY_ITERATIONS; iteration++) {
    const sent = Bun.nanoseconds();
    let previous: number | undefined;
    for await (const _ of stream.infer(request)) {
      const arrived = Bun.nanoseconds();
      if (iteration >= LATENCY_WARMUP) {
        if (previous === undefined) first.push((arrived - sent) / 1000);
        else gaps.push((arrived - previous) / 1000);
      }
      previous = arrived;
    }
  }
  stream.close();
  return { first_response_us: first, inter_response_us: gaps };
}

/** Times the library's per-message work on the receive side by bracketing its 'data' listener. */
function instrumentReceive(stream: TritonStream, samples: number[]): void {
  // Benchmark instrumentation only: reaches the private gRPC call to add listeners around ours.
  const call = (stream as unknown as { call: NodeJS.EventEmitter }).call;
  let started = 0;
  call.prependListener("data", () => (started = Bun.nanoseconds()));
  call.on("data", () => samples.push((Bun.nanoseconds() - started) / 1000));
}

async function oursLoad(client: TritonClient) {
  const sendUs: number[] = [];
  const receiveUs: number[] = [];
  const windows: number[] = [];
  let requests = 0;
  let responses = 0;
  const stopAt = Date.now() + LOAD_SECONDS * 1000;

  const worker = async (index: number) => {
    const stream = client.openStream();
    instrumentReceive(stream, receiveUs);
    const request: InferRequest = repeatRequest(`s${index}`, RESPONSES_PER_REQUEST);
    while (Date.now() < stopAt) {
      const before = Bun.nanoseconds();
      const responsesOf = stream.infer(request); // encode + serialize + write happen here, synchronously
      sendUs.push((Bun.nanoseconds() - before) / 1000);
      requests++;
      for await (const _ of responsesOf) responses++;
    }
    stream.close();
  };

  let lastCpu = process.cpuUsage();
  let lastMessages = 0;
  const sampler = setInterval(() => {
    const cpu = process.cpuUsage(lastCpu);
    const messages = requests + responses;
    if (messages > lastMessages) windows.push((cpu.user + cpu.system) / (messages - lastMessages));
    lastCpu = process.cpuUsage();
    lastMessages = messages;
  }, 100);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await Promise.all(Array.from({ length: LOAD_STREAMS }, (_, i) => worker(i)));
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - wall0) / 1000;
  clearInterval(sampler);
  return {
    requests,
    responses,
    wall_s: wall,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    cpu_us_per_message: (cpu.user + cpu.system) / (requests + responses),
    cpu_us_per_message_windows: summarize(windows.slice(2)), // first windows include stream setup
    send_path_us: summarize(sendUs),
    receive_path_us: summarize(receiveUs),
  };
}

/** Captures the raw bytes Triton sends for one streamed `repeat` request. */
async function captureResponseBytes(url: string): Promise<Buffer[]> {
  const Client = inferenceClientConstructor();
  const raw = new Client(url, grpc.credentials.createInsecure());
  const call = raw.makeBidiStreamRequest(MODEL_STREAM_INFER_PATH, encodeModelInferRequest, (bytes: Buffer) => bytes, new grpc.Metadata(), {});
  const frames: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    call.on("data", (bytes: Buffer) => {
      frames.push(bytes);
      if (frames.length === RESPONSES_PER_REQUEST + 1) resolve(); // + the empty final response
    });
    call.on("error", reject);
    call.write(encodeInferRequest({ ...repeatRequest("capture", RESPONSES_PER_REQUEST), id: "capture" }, { [EMPTY_FINAL_RESPONSE_PARAMETER]: true }));
  });
  call.cancel();
  raw.close();
  return frames;
}

function libraryPath(frames: Buffer[]) {
  const request = repeatRequest("s1", RESPONSES_PER_REQUEST);
  const send: number[] = [];
  const receive: number[] = [];
  for (let i = 0; i < 60_000; i++) {
    const t0 = Bun.nanoseconds();
    encodeModelInferRequest(encodeInferRequest({ ...request, id: `s1-${i}` }, { [EMPTY_FINAL_RESPONSE_PARAMETER]: true }));
    const t1 = Bun.nanoseconds();
    const message = decodeModelStreamInferResponse(frames[i % (frames.length - 1)]!);
    const response = decodeInferResponse(message.infer_response!, false);
    response.output("INDEX");
    const t2 = Bun.nanoseconds();
    if (i >= 10_000) {
      send.push((t1 - t0) / 1000);
      receive.push((t2 - t1) / 1000);
    }
  }
  return { send_request_us: summarize(send), receive_response_us: summarize(receive), response_bytes: frames[0]!.length };
}

/** Same load as oursLoad, over a bare node:http2 session with hand-rolled gRPC framing. */
async function transportFloor(url: string) {
  const session = http2.connect(`http://${url}`);
  let messages = 0;
  const stopAt = Date.now() + LOAD_SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: LOAD_STREAMS }, (_, index) => new Promise<void>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": MODEL_STREAM_INFER_PATH, "content-type": "application/grpc", te: "trailers" });
    const request = repeatRequest(`s${index}`, RESPONSES_PER_REQUEST);
    let pending: Buffer = Buffer.alloc(0);
    let sequence = 0;
    const send = () => {
      const body = encodeModelInferRequest(encodeInferRequest({ ...request, id: `r${sequence++}` }, { [EMPTY_FINAL_RESPONSE_PARAMETER]: true }));
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      stream.write(frame);
      messages++;
    };
    stream.on("error", reject);
    stream.on("data", (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending.length < 5 + length) break;
        const message = decodeModelStreamInferResponse(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
        const response = decodeInferResponse(message.infer_response!, false);
        if (response.outputs.length > 0) messages++;
        if (!response.final) continue;
        if (Date.now() < stopAt) send();
        else {
          stream.close();
          resolve();
        }
      }
    });
    send();
  })));
  const cpu = process.cpuUsage(cpu0);
  session.close();
  return { messages, cpu_us_per_message: (cpu.user + cpu.system) / messages };
}

async function main() {
  const server = await TritonServer.start();
  const client = new TritonClient({ url: server.grpcUrl });
  try {
    const tritonVersion = (await client.serverMetadata()).version;
    if (ONLY_OUR_LOAD) {
      console.log(JSON.stringify(await oursLoad(client), null, 2));
      return;
    }
    const library = libraryPath(await captureResponseBytes(server.grpcUrl));
    console.error("library path done");
    const ours = { first: [] as number[], gaps: [] as number[] };
    const reference = { first: [] as number[], gaps: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate so drift (thermal, other load) hits both clients alike.
      const mine = await oursLatency(client);
      ours.first.push(...mine.first_response_us);
      ours.gaps.push(...mine.inter_response_us);
      const theirs = await runPython("latency", server.grpcUrl);
      reference.first.push(...(theirs.first_response_us as number[]));
      reference.gaps.push(...(theirs.inter_response_us as number[]));
      console.error(`latency round ${round + 1}/${ROUNDS} done`);
    }
    const latency = {
      ours: { first_response_us: summarize(ours.first), inter_response_us: summarize(ours.gaps) },
      tritonclient: { first_response_us: summarize(reference.first), inter_response_us: summarize(reference.gaps) },
    };
    const latencyRatios = {
      first_response: ratios(latency.ours.first_response_us, latency.tritonclient.first_response_us),
      inter_response: ratios(latency.ours.inter_response_us, latency.tritonclient.inter_response_us),
    };

    const loadOurs = await oursLoad(client);
    console.error("load (ours) done");
    const loadReference = await runPython("load", server.grpcUrl);
    console.error("load (tritonclient) done");
    const floor = await transportFloor(server.grpcUrl);
    console.error("transport floor done");

    const result = {
      benchmark: "triton-client vs tritonclient (gRPC), streamed requests to the decoupled `repeat` fixture",
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? "unknown",
        cores: cpus().length,
        memory_gib: Math.round(totalmem() / 2 ** 30),
        kernel: release(),
        bun: Bun.version,
        triton_server: tritonVersion,
        note: "client and tritonserver share the same cores; Python backend fixture",
      },
      config: { responses_per_request: RESPONSES_PER_REQUEST, latency_iterations_per_round: LATENCY_ITERATIONS, rounds: ROUNDS, load_streams: LOAD_STREAMS, load_seconds: LOAD_SECONDS },
      latency,
      latency_ratio_ours_over_tritonclient: latencyRatios,
      library_path_per_message: library,
      load: {
        ours: loadOurs,
        tritonclient: loadReference,
        bare_node_http2_same_load: floor,
        cpu_per_message_ratio_ours_over_tritonclient:
          Math.round((loadOurs.cpu_us_per_message / (loadReference.cpu_us_per_message as number)) * 1000) / 1000,
      },
      goals: {
        ours_no_slower_first_response: latencyRatios.first_response.median <= 1,
        ours_no_slower_inter_response: latencyRatios.inter_response.median <= 1,
        library_overhead_per_message_median_below_50us: library.send_request_us.median + library.receive_response_us.median < 50,
        full_stack_cpu_per_message_median_below_50us: loadOurs.cpu_us_per_message_windows.median < 50,
      },
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = `${RESULTS_DIR}triton-client-${result.date.replace(/[:.]/g, "-")}.json`;
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify({ file, latency: result.latency, ratios: latencyRatios, library, load: result.load, goals: result.goals }, null, 2));
  } finally {
    client.close();
    await server.stop();
  }
}

await main();
