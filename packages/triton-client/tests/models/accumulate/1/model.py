"""Sequence fixture: running sum of VALUE per correlation id.

START resets the sum, END forgets it; the output also reports the correlation
id Triton delivered, so the test sees exactly what the client sent.
"""
import numpy as np
import triton_python_backend_utils as pb_utils


def _scalar(request, name):
    return pb_utils.get_input_tensor_by_name(request, name).as_numpy().reshape(-1)[0]


class TritonPythonModel:
    def initialize(self, args):
        self.sums = {}

    def execute(self, requests):
        responses = []
        for request in requests:
            corrid = int(_scalar(request, "CORRID"))
            if int(_scalar(request, "START")):
                self.sums[corrid] = 0
            total = self.sums.get(corrid, 0) + int(_scalar(request, "VALUE"))
            self.sums[corrid] = total
            if int(_scalar(request, "END")):
                self.sums.pop(corrid, None)
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("SUM", np.array([total], dtype=np.int32)),
                pb_utils.Tensor("CORRID_SEEN", np.array([corrid], dtype=np.uint64)),
            ]))
        return responses
