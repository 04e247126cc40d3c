"""Neural text to speech with Piper (VITS voices in ONNX, on onnxruntime), one file for both
repositories: the CPU provider here, CUDA on a GPU server (the `device` parameter).

Contract (docs/contract.md): decoupled. The text in `target_text` is split into sentences by Piper's
phonemizer (espeak-ng) and each sentence is synthesised and sent as its own response (`waveform` FP32
in [-1, 1], `sample_rate` INT32) as soon as it is ready. Optional `voice` (one of the installed voices,
named as Piper names them: `en_US-joe-medium`) and `speed` (0.5 .. 2.0, 1 = normal). A request the
client cancels (Morgan on barge-in) stops before its next sentence.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "lib"))

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from morgan_backend import (  # noqa: E402
    BadRequest,
    answer_each,
    onnx_providers,
    onnx_session_options,
    parameters,
    resolve_weights,
    scalar_input,
    text_input,
)

MAX_TEXT_BYTES = 20000
SPEAKABLE = re.compile(r"\w")


class TritonPythonModel:
    def initialize(self, args):
        params, config = parameters(args)
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("tts must be configured decoupled")
        try:
            voices = json.loads(params["voices"])
        except (KeyError, ValueError) as exc:
            raise pb_utils.TritonModelException(f"parameter voices must be a JSON object name -> .onnx: {exc}") from None
        device = params.get("device", "cpu")
        threads = int(params.get("threads", "1"))
        self.voices = {name: _load_voice(resolve_weights(spec, args), onnx_providers(device, args), threads) for name, spec in voices.items()}
        self.default_voice = params.get("default_voice", next(iter(self.voices), ""))
        # Piper scales each sentence to a full-scale peak by default, so loudness jumps from sentence to
        # sentence and peaks clip after resampling; a fixed gain keeps one level (measured raw peaks of
        # en_US-joe-medium: 0.47-0.62, so 1.5 stays below full scale).
        self.gain = float(params.get("gain", "1.5"))
        if self.default_voice not in self.voices:
            raise pb_utils.TritonModelException(f"default_voice {self.default_voice!r} is not one of {sorted(self.voices)}")

    def execute(self, requests):
        answer_each(requests, self._handle, "tts")
        return None

    def _handle(self, request, sender):
        from piper import SynthesisConfig

        text = text_input(request, "target_text", True, MAX_TEXT_BYTES)
        if not SPEAKABLE.search(text):
            raise BadRequest("target_text is empty or has nothing speakable")
        name = text_input(request, "voice", False, 256) or self.default_voice
        voice = self.voices.get(name)
        if voice is None:
            raise BadRequest(f"unknown voice {name!r}; installed voices: {', '.join(sorted(self.voices))}")
        speed = scalar_input(request, "speed", 1.0, float)
        if not 0.5 <= speed <= 2.0:
            raise BadRequest(f"speed must be between 0.5 and 2.0, got {speed}")

        config = SynthesisConfig(length_scale=1.0 / speed, normalize_audio=False, volume=self.gain)
        for chunk in voice.synthesize(text, config):
            # A client that cancelled (Morgan on barge-in) gets no more audio: stop synthesising.
            if sender.is_cancelled():
                pb_utils.Logger.log_info("tts: request cancelled by the client; stopping synthesis")
                break
            sender.send(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("waveform", chunk.audio_float_array.astype(np.float32)),
                        pb_utils.Tensor("sample_rate", np.array([chunk.sample_rate], dtype=np.int32)),
                    ]
                )
            )
        sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)


def _load_voice(model_path, providers, threads):
    """A Piper voice (its .onnx and the .onnx.json beside it) on an onnxruntime session we configure."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    config_path = f"{model_path}.json"
    if not os.path.exists(config_path):
        raise pb_utils.TritonModelException(f"Piper voice config {config_path} not found beside {model_path}")
    with open(config_path, encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    session = onnxruntime.InferenceSession(
        model_path, sess_options=onnx_session_options(threads), providers=providers
    )
    return PiperVoice(session=session, config=config)
