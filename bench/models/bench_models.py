"""Per-model latency benchmark of the CPU Triton repository (not a test: it only measures).

Needs a running Triton with the four models (scripts/triton/start.sh). Run:
    .venv/bin/python bench/models/bench_models.py [--reps N] [--url 127.0.0.1:8101]
Prints median and p95 per figure and writes bench/results/models.json.

Figures (targets from issue 4):
  stt  real-time factor (chunks sent as fast as possible: decode time / audio time) and latency from
       sending the last chunk (real-time paced stream) to the final transcript   target < 300 ms
  llm  time to first token, tokens per second after it                          target TTFT < 50 ms
  tts  time to the first audio chunk of a 10-word sentence, per voice            target < 100 ms
  vad  time per 32 ms frame: one frame per request (streaming) and 10 s in one request
"""

import argparse
import json
import os
import platform
import queue
import subprocess
import time
import wave

import numpy as np
import tritonclient.grpc as grpcclient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SENTENCES = [
    "the weather is nice today",
    "please turn off the lights in the kitchen",
    "what time is it in new york",
]
TEN_WORDS = "Your next meeting starts at three with the design team."
CHUNK = 3200  # 200 ms


def stats(xs):
    a = np.asarray(xs, dtype=float)
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "n": int(a.size)}


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024 // 1024
    except OSError:
        pass
    return {"hostname": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem,
            "os": platform.platform(), "gpu": "none"}


def flite(text, voice="slt"):
    path = os.path.join(ROOT, ".run", "bench.wav")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", path], check=True)
    with wave.open(path) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    os.unlink(path)
    return pcm.astype(np.float32) / 32768.0


class Stream:
    def __init__(self, client):
        self.client, self.q = client, queue.Queue()
        client.start_stream(callback=lambda result, error: self.q.put((time.perf_counter(), result, error)))

    def send(self, model, inputs, **kw):
        self.client.async_stream_infer(model, inputs, enable_empty_final_response=True, **kw)

    def get(self, timeout=30):
        t, result, error = self.q.get(timeout=timeout)
        if error is not None:
            raise RuntimeError(str(error))
        return t, result

    def close(self):
        self.client.stop_stream()


def final(result):
    p = result.get_response().parameters.get("triton_final_response")
    return bool(p and p.bool_param)


def inp(name, arr, dtype):
    i = grpcclient.InferInput(name, list(arr.shape), dtype)
    i.set_data_from_numpy(arr)
    return i


def bench_stt(client, reps, seq_base=900000):
    rtf, latency = [], []
    audios = [np.concatenate([np.zeros(4000, np.float32), flite(s), np.zeros(4000, np.float32)]) for s in SENTENCES]
    sid = seq_base
    for _ in range(reps):
        for audio in audios:
            chunks = [audio[i : i + CHUNK] for i in range(0, len(audio), CHUNK)]
            # (1) as fast as possible: total decode time over audio duration
            sid += 1
            s = Stream(client)
            t0 = time.perf_counter()
            for k, ch in enumerate(chunks):
                s.send("stt", [inp("WAV", ch[None, :], "FP32")], sequence_id=sid,
                       sequence_start=k == 0, sequence_end=k == len(chunks) - 1)
            while True:
                t, r = s.get()
                if r.get_response().outputs and r.as_numpy("IS_FINAL").reshape(-1)[0]:
                    break
            s.close()
            rtf.append((t - t0) / (len(audio) / 16000))
            # (2) paced like a microphone; latency from the last chunk to the final transcript
            sid += 1
            s = Stream(client)
            start = time.perf_counter()
            for k, ch in enumerate(chunks):
                time.sleep(max(0.0, start + k * CHUNK / 16000 - time.perf_counter()))
                t_last = time.perf_counter()
                s.send("stt", [inp("WAV", ch[None, :], "FP32")], sequence_id=sid,
                       sequence_start=k == 0, sequence_end=k == len(chunks) - 1)
            while True:
                t, r = s.get()
                if r.get_response().outputs and r.as_numpy("IS_FINAL").reshape(-1)[0]:
                    break
            s.close()
            latency.append((t - t_last) * 1000)
    return {"real_time_factor": stats(rtf), "final_after_last_chunk_ms": stats(latency), "target_final_ms": 300}


def bench_llm(client, reps):
    ttft, tps = [], []
    prompts = ["What is the weather like today?", "Tell me a joke.", "Turn off the kitchen lights.",
               "How far away is the moon?"]
    for n in range(reps):
        params = json.dumps({"max_tokens": 64, "seed": n, "temperature": 0.8}).encode()
        inputs = [inp("text_input", np.array([prompts[n % len(prompts)].encode()], dtype=object), "BYTES"),
                  inp("stream", np.array([True]), "BOOL"),
                  inp("sampling_parameters", np.array([params], dtype=object), "BYTES")]
        s = Stream(client)
        t0 = time.perf_counter()
        s.send("llm", inputs)
        times = []
        while True:
            t, r = s.get()
            if r.get_response().outputs:
                times.append(t)
            if final(r):
                break
        s.close()
        ttft.append((times[0] - t0) * 1000)
        if len(times) > 1:
            tps.append((len(times) - 1) / (times[-1] - times[0]))
    return {"time_to_first_token_ms": stats(ttft), "tokens_per_second": stats(tps), "target_first_token_ms": 50}


def bench_tts(client, reps):
    out = {}
    for voice in ("kal", "slt"):
        first, total = [], []
        for _ in range(reps):
            inputs = [inp("target_text", np.array([TEN_WORDS.encode()], dtype=object), "BYTES"),
                      inp("voice", np.array([voice.encode()], dtype=object), "BYTES")]
            s = Stream(client)
            t0 = time.perf_counter()
            s.send("tts", inputs)
            t_first = None
            while True:
                t, r = s.get()
                if r.get_response().outputs and t_first is None:
                    t_first = t
                if final(r):
                    break
            s.close()
            first.append((t_first - t0) * 1000)
        out[voice] = {"first_chunk_ms": stats(first)}
    out["text"] = TEN_WORDS
    out["target_first_chunk_ms"] = 100
    return out


def bench_vad(client, reps):
    per_request = []
    frame = np.zeros((1, 512), np.float32)
    for n in range(reps * 10):
        t0 = time.perf_counter()
        client.infer("vad", [inp("AUDIO", frame, "FP32")], sequence_id=800000 + n, sequence_start=True, sequence_end=True)
        per_request.append((time.perf_counter() - t0) * 1000)
    bulk = []
    ten_s = (np.random.default_rng(0).standard_normal((1, 160000)) * 0.05).astype(np.float32)
    for n in range(reps):
        t0 = time.perf_counter()
        r = client.infer("vad", [inp("AUDIO", ten_s, "FP32")], sequence_id=810000 + n, sequence_start=True, sequence_end=True)
        bulk.append((time.perf_counter() - t0) * 1000 / r.as_numpy("PROBS").shape[1])
    return {"one_frame_request_ms": stats(per_request), "per_frame_in_10s_request_ms": stats(bulk)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=f"127.0.0.1:{os.environ.get('TRITON_GRPC_PORT', '8101')}")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "models.json"))
    args = ap.parse_args()
    client = grpcclient.InferenceServerClient(args.url)
    for m in ("vad", "stt", "llm", "tts"):
        if not client.is_model_ready(m):
            raise SystemExit(f"model {m} is not ready at {args.url}; run scripts/triton/start.sh")
    meta = client.get_server_metadata()
    result = {
        "machine": machine(),
        "triton_version": meta.version,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "reps": args.reps,
    }
    # Warm-up: first requests touch lazily loaded model pages.
    bench_vad(client, 1), bench_llm(client, 2), bench_tts(client, 1)
    result["vad"] = bench_vad(client, args.reps)
    result["llm"] = bench_llm(client, args.reps * 3)
    result["tts"] = bench_tts(client, args.reps * 2)
    result["stt"] = bench_stt(client, max(1, args.reps // 3))
    print(f"machine: {result['machine']['hostname']} ({result['machine']['cpu']}, {result['machine']['cores']} cores), "
          f"Triton {result['triton_version']}")

    def line(name, s, unit):
        print(f"  {name:42s} median {s['median']:9.2f} {unit:4s} p95 {s['p95']:9.2f} {unit} (n={s['n']})")

    line("stt real-time factor", result["stt"]["real_time_factor"], "x")
    line("stt final after last chunk", result["stt"]["final_after_last_chunk_ms"], "ms")
    line("llm time to first token", result["llm"]["time_to_first_token_ms"], "ms")
    line("llm tokens/s", result["llm"]["tokens_per_second"], "tok/s")
    for v in ("kal", "slt"):
        line(f"tts first chunk, 10 words, voice {v}", result["tts"][v]["first_chunk_ms"], "ms")
    line("vad one 32 ms frame per request", result["vad"]["one_frame_request_ms"], "ms")
    line("vad per frame within a 10 s request", result["vad"]["per_frame_in_10s_request_ms"], "ms")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
