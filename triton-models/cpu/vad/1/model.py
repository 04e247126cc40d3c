"""Silero VAD on onnxruntime (CPU), served as a Triton sequence model.

Contract (docs/contract.md): input AUDIO FP32 (16 kHz mono chunk of any length), output PROBS FP32,
one speech probability per completed 512-sample (32 ms) frame. Samples that do not fill a frame
carry over to the next request of the same sequence, together with the RNN state, so a client may
send chunks of any size and still get exactly one probability per 32 ms of audio.

The ONNX file comes from the `silero-vad` wheel (installed with --no-deps, so no torch is needed).
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "lib"))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from morgan_backend import BadRequest, audio_input, onnx_session_options, parameters, sequence_controls  # noqa: E402

SAMPLE_RATE = 16000
FRAME = 512  # Silero's window at 16 kHz (32 ms)
CONTEXT = 64  # Silero v5 expects the last 64 samples of the previous window in front of each frame
MAX_CHUNK_SAMPLES = SAMPLE_RATE * 30  # a single request over 30 s is a client bug, not a stream


def _silero_onnx_path():
    import importlib.util

    # Locate the package without importing it: its __init__ imports torch, which is not installed.
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise pb_utils.TritonModelException("the silero-vad package is not installed in the venv")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "silero_vad.onnx")
    if not os.path.exists(path):
        raise pb_utils.TritonModelException(f"silero_vad.onnx not found at {path}")
    return path


class _SeqState:
    __slots__ = ("state", "context", "leftover", "touched")

    def __init__(self):
        self.state = np.zeros((2, 1, 128), dtype=np.float32)
        self.context = np.zeros(CONTEXT, dtype=np.float32)
        self.leftover = np.zeros(0, dtype=np.float32)
        self.touched = time.monotonic()


class TritonPythonModel:
    def initialize(self, args):
        params, _ = parameters(args)
        # State of a sequence that never sent END is dropped after this long (Triton itself does not
        # tell the model when it frees an idle sequence slot).
        self.idle_s = float(params.get("state_idle_seconds", "60"))
        # One thread per instance: instances run in parallel and the machine may have only 2 cores;
        # a 576-sample frame is far too small for intra-op parallelism to pay off.
        self.session = ort.InferenceSession(
            _silero_onnx_path(), sess_options=onnx_session_options(1), providers=["CPUExecutionProvider"]
        )
        self.sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.sequences = {}

    def _evict_idle(self):
        now = time.monotonic()
        for cid in [c for c, s in self.sequences.items() if now - s.touched > self.idle_s]:
            del self.sequences[cid]

    def execute(self, requests):
        self._evict_idle()
        responses = [None] * len(requests)
        work = []  # (request index, corrid, state, frames)
        for i, request in enumerate(requests):
            try:
                work.append((i,) + self._prepare(request))
            except BadRequest as exc:
                responses[i] = pb_utils.InferenceResponse(error=pb_utils.TritonError(f"vad: {exc}"))

        # Run frame t of every sequence in the batch as one ONNX call of batch size B: the batched
        # requests come from different sequences, and Silero's graph is batched over dim 0.
        probs = {i: [] for i, _, _, _, _ in work}
        max_frames = max((len(f) for _, _, _, f, _ in work), default=0)
        for t in range(max_frames):
            active = [w for w in work if len(w[3]) > t]
            x = np.stack([np.concatenate([w[2].context, w[3][t]]) for w in active])
            state = np.concatenate([w[2].state for w in active], axis=1)
            out, new_state = self.session.run(None, {"input": x, "state": state, "sr": self.sr})
            for k, w in enumerate(active):
                w[2].state = new_state[:, k : k + 1, :].copy()
                w[2].context = w[3][t][-CONTEXT:].copy()
                probs[w[0]].append(float(out[k, 0]))

        for i, cid, st, _, end in work:
            st.touched = time.monotonic()
            if end:
                self.sequences.pop(cid, None)
            p = np.asarray(probs[i], dtype=np.float32)[None, :]
            responses[i] = pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("PROBS", p)])
        return responses

    def _prepare(self, request):
        start, end, cid = sequence_controls(request)
        a = audio_input(request, "AUDIO", MAX_CHUNK_SAMPLES)
        if start or cid not in self.sequences:
            # A sequence we have no state for (never started, or evicted) starts fresh rather than
            # failing: VAD state converges within a few frames.
            self.sequences[cid] = _SeqState()
        st = self.sequences[cid]
        buf = np.concatenate([st.leftover, a])
        n = buf.size // FRAME
        frames = [buf[k * FRAME : (k + 1) * FRAME] for k in range(n)]
        st.leftover = buf[n * FRAME :].copy()
        return cid, st, frames, end
