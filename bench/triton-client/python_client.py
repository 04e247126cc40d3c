"""The reference side of the benchmark: NVIDIA's tritonclient (gRPC) doing the
same work as bench.ts does with @triton-client, against the same server.

Prints one JSON object on stdout.
  latency: one long-lived stream, `iterations` sequential streamed requests;
           time to first response and gaps between responses, in microseconds.
  load:    `streams` concurrent streams (one client + stream each, as the
           library requires) for `seconds`; process CPU time per message.
"""
import argparse
import json
import queue
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient


def repeat_inputs(count, delay_ms, tag):
    values = {"COUNT": np.array([count], dtype=np.int32), "DELAY_MS": np.array([delay_ms], dtype=np.int32)}
    inputs = []
    for name, array in values.items():
        tensor = grpcclient.InferInput(name, [1], "INT32")
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    tag_tensor = grpcclient.InferInput("TAG", [1], "BYTES")
    tag_tensor.set_data_from_numpy(np.array([tag.encode()], dtype=np.object_))
    inputs.append(tag_tensor)
    return inputs


def is_final(result):
    response = result.get_response()
    return response.parameters["triton_final_response"].bool_param


def latency(args):
    events = queue.Queue()

    def callback(result, error):
        events.put((time.perf_counter_ns(), result, error))

    client = grpcclient.InferenceServerClient(args.url)
    client.start_stream(callback=callback)
    inputs = repeat_inputs(args.count, args.delay_ms, "py")
    first_us, gaps_us = [], []
    for iteration in range(args.warmup + args.iterations):
        sent = time.perf_counter_ns()
        client.async_stream_infer("repeat", inputs, request_id=str(iteration), enable_empty_final_response=True)
        previous = None
        while True:
            arrived, result, error = events.get()
            if error is not None:
                raise RuntimeError(error)
            if is_final(result):
                break
            if iteration >= args.warmup:
                if previous is None:
                    first_us.append((arrived - sent) / 1000)
                else:
                    gaps_us.append((arrived - previous) / 1000)
            previous = arrived
    client.stop_stream()
    client.close()
    print(json.dumps({"first_response_us": first_us, "inter_response_us": gaps_us}))


def load(args):
    stop_at = time.monotonic() + args.seconds
    counters = {"requests": 0, "responses": 0}
    lock = threading.Lock()
    clients = []

    def run(index):
        done = threading.Event()

        def callback(result, error):
            if error is not None:
                raise RuntimeError(error)
            final = is_final(result)
            with lock:
                counters["responses"] += 0 if final and not result.get_response().outputs else 1
            if final:
                done.set()

        client = grpcclient.InferenceServerClient(args.url)
        clients.append(client)
        client.start_stream(callback=callback)
        inputs = repeat_inputs(args.count, 0, f"s{index}")
        while time.monotonic() < stop_at:
            done.clear()
            client.async_stream_infer("repeat", inputs, enable_empty_final_response=True)
            with lock:
                counters["requests"] += 1
            done.wait()
        client.stop_stream()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.streams)]
    cpu0, wall0 = time.process_time(), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    for client in clients:
        client.close()
    messages = counters["requests"] + counters["responses"]
    print(json.dumps({
        "cpu_s": cpu, "wall_s": wall, "requests": counters["requests"], "responses": counters["responses"],
        "cpu_us_per_message": cpu * 1e6 / max(messages, 1),
    }))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["latency", "load"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    latency(args) if args.mode == "latency" else load(args)


if __name__ == "__main__":
    main()
