"""Identity fixture: echoes each present IN_<type> input as OUT_<type>.

An IN_STRING whose first element is b"raise" makes the request fail, giving
the tests a deterministic model error on the unary path.
"""
import triton_python_backend_utils as pb_utils

TYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
         "INT64", "FP16", "FP32", "FP64", "STRING"]


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            outputs = []
            error = None
            for kind in TYPES:
                tensor = pb_utils.get_input_tensor_by_name(request, f"IN_{kind}")
                if tensor is None:
                    continue
                data = tensor.as_numpy()
                if kind == "STRING" and data.size and data.reshape(-1)[0] == b"raise":
                    error = pb_utils.TritonError("identity: asked to raise")
                outputs.append(pb_utils.Tensor(f"OUT_{kind}", data))
            if error is not None:
                responses.append(pb_utils.InferenceResponse(error=error))
            else:
                responses.append(pb_utils.InferenceResponse(output_tensors=outputs))
        return responses
