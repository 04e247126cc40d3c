"""End-of-turn detection with Smart Turn v3.2 (Pipecat's open model; ONNX on onnxruntime), one file
for both repositories.

Contract (docs/contract.md): not decoupled, no sequence. Input `AUDIO`: up to the last 8 s of the
user's turn, 16 kHz mono FP32 (longer input keeps its last 8 s). Output `PROBABILITY`: the probability
that the user has finished the turn, in [0, 1]. It hears how something was said as well as what: a
trailing "and…" with a rising pitch scores low. Flat synthetic prosody defeats it, so Morgan always
backs it with a maximum wait.

The model takes Whisper-style log-mel features (80 x 800) of 8 s of audio, zero-padded at the front
and normalised to zero mean and unit variance before the spectrogram, computed here with
faster-whisper's feature extractor.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "lib"))

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from morgan_backend import (  # noqa: E402
    BadRequest,
    audio_rows,
    onnx_providers,
    onnx_session_options,
    parameters,
    resolve_weights,
)

SAMPLE_RATE = 16000
WINDOW = 8 * SAMPLE_RATE
FRAMES = WINDOW // 160
MAX_INPUT_SAMPLES = 30 * SAMPLE_RATE


class TritonPythonModel:
    def initialize(self, args):
        import onnxruntime
        from faster_whisper.feature_extractor import FeatureExtractor

        params, _ = parameters(args)
        self.session = onnxruntime.InferenceSession(
            resolve_weights(params["onnx"], args),
            sess_options=onnx_session_options(int(params.get("threads", "1"))),
            providers=onnx_providers(params.get("device", "cpu"), args),
        )
        self.features = FeatureExtractor(feature_size=80, chunk_length=8)

    def execute(self, requests):
        # Every clip of every request (a request may carry several rows) goes through the network once.
        responses, clips = [], []
        for request in requests:
            try:
                rows = [self._features(row) for row in audio_rows(request, "AUDIO", MAX_INPUT_SAMPLES)]
                responses.append(len(rows))
                clips.extend(rows)
            except BadRequest as exc:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"turn: {exc}")))
        probabilities = iter(self.session.run(None, {"input_features": np.stack(clips)})[0].reshape(-1) if clips else [])
        for i, rows in enumerate(responses):
            if isinstance(rows, int):
                p = np.array([[float(next(probabilities))] for _ in range(rows)], dtype=np.float32)  # [rows, 1]
                responses[i] = pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("PROBABILITY", p)])
        return responses

    def _features(self, audio):
        if audio.size == 0:
            raise BadRequest("AUDIO is empty")
        audio = audio[-WINDOW:]
        audio = np.pad(audio, (WINDOW - audio.size, 0))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
        return self.features(audio, padding=0)[:, :FRAMES].astype(np.float32)
