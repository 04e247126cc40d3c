"""Fixtures for the Triton model tests: a real tritonserver (scripts/triton/start.sh) and helpers
that talk to it with NVIDIA's tritonclient over gRPC streaming."""

import os
import queue
import subprocess
import urllib.request
import wave

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HTTP_PORT = int(os.environ.get("TRITON_HTTP_PORT", "8100"))
GRPC_PORT = int(os.environ.get("TRITON_GRPC_PORT", "8101"))
MODELS = ("vad", "stt", "llm", "tts")


def _ready():
    try:
        for path in ["/v2/health/ready"] + [f"/v2/models/{m}/ready" for m in MODELS]:
            with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}{path}", timeout=2) as r:
                if r.status != 200:
                    return False
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def triton_server():
    """Start Triton unless one is already serving all four models; stop it again only if we started it."""
    started_here = not _ready()
    if started_here:
        proc = subprocess.run(
            ["bash", os.path.join(ROOT, "scripts/triton/start.sh")], capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0:
            pytest.fail(
                f"scripts/triton/start.sh failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False
            )
    assert _ready(), "Triton is not ready after start.sh"
    yield f"127.0.0.1:{GRPC_PORT}"
    if started_here:
        subprocess.run(["bash", os.path.join(ROOT, "scripts/triton/stop.sh")], timeout=60)


@pytest.fixture
def client(triton_server):
    c = grpcclient.InferenceServerClient(triton_server)
    yield c
    c.close()


def model_ready(client, name):
    return client.is_model_ready(name)


def flite_audio(text, voice="slt"):
    """Speak text with Debian's flite command (16 kHz voices) and return mono FP32 samples."""
    path = os.path.join(ROOT, ".run", f"test-{abs(hash((text, voice)))}.wav")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", path], check=True)
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    os.unlink(path)
    return pcm.astype(np.float32) / 32768.0


class Stream:
    """One gRPC bidirectional stream; responses (or errors) are collected in arrival order."""

    def __init__(self, client):
        self.client = client
        self.q = queue.Queue()
        client.start_stream(callback=self._cb)

    def _cb(self, result, error):
        self.q.put((result, error))

    def send(self, model, inputs, **kw):
        self.client.async_stream_infer(model, inputs, enable_empty_final_response=True, **kw)

    def collect(self, n_final=1, timeout=30):
        """Read responses until n_final requests have completed (final flag or error)."""
        out, finals = [], 0
        while finals < n_final:
            result, error = self.q.get(timeout=timeout)
            out.append((result, error))
            if error is not None or is_final(result):
                finals += 1
        return out

    def close(self):
        self.client.stop_stream()


def is_final(result):
    p = result.get_response().parameters.get("triton_final_response")
    return bool(p and p.bool_param)


def has_outputs(result):
    return len(result.get_response().outputs) > 0


def make_input(name, array, dtype):
    i = grpcclient.InferInput(name, list(array.shape), dtype)
    i.set_data_from_numpy(array)
    return i


def wer(ref, hyp):
    """Word error rate: word-level Levenshtein distance / reference length."""
    r, h = ref.lower().split(), hyp.lower().split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev = cur
    return d[len(h)] / max(1, len(r))
