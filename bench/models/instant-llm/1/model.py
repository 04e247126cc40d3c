"""Bench-only instant LLM: the llm contract (decoupled, vLLM backend interface), no generation.

Every request gets one response at once: the fixed delta from config.pbtxt's `reply` parameter, with
the final flag. Inputs are accepted and ignored (only text_input is required, as in the contract), so
the cost measured through it is Triton's and Morgan's, never a model's.
"""

import json

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        reply = params.get("reply", "Ok.").encode("utf-8")
        # Built once: the response tensor is the same for every request.
        self.reply = np.array([reply], dtype=object)

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            response = pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("text_output", self.reply)])
            sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
