"""Bench-only instant TTS: the tts contract (decoupled), no synthesis.

Every request gets one response at once: a fixed run of silence (config.pbtxt `samples` at
`sample_rate`) with the final flag. Inputs are accepted and ignored.
"""

import json

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        # Built once: every response carries the same tensors.
        self.waveform = np.zeros(int(params.get("samples", "320")), dtype=np.float32)
        self.sample_rate = np.array([int(params.get("sample_rate", "16000"))], dtype=np.int32)

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            response = pb_utils.InferenceResponse(
                output_tensors=[
                    pb_utils.Tensor("waveform", self.waveform),
                    pb_utils.Tensor("sample_rate", self.sample_rate),
                ]
            )
            sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
