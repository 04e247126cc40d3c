"""Decoupled fixture: streams COUNT responses per request, optionally failing.

Requests are served on their own threads so one slow request never delays the
responses of another; this is what lets the client tests observe true
interleaving on one gRPC stream.
"""
import threading
import time

import numpy as np
import triton_python_backend_utils as pb_utils


def _scalar(request, name, default):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return default if tensor is None else tensor.as_numpy().reshape(-1)[0]


class TritonPythonModel:
    def initialize(self, args):
        self.threads = []

    def execute(self, requests):
        for request in requests:
            thread = threading.Thread(target=self._serve, args=(request,), daemon=True)
            thread.start()
            self.threads.append(thread)
        self.threads = [t for t in self.threads if t.is_alive()]
        return None

    def _serve(self, request):
        sender = request.get_response_sender()
        count = int(_scalar(request, "COUNT", 1))
        delay_s = int(_scalar(request, "DELAY_MS", 0)) / 1000.0
        fail_at = int(_scalar(request, "FAIL_AT", -1))
        tag = _scalar(request, "TAG", b"")
        for index in range(count):
            if delay_s:
                # Sleep in slices so a cancelled request stops promptly.
                deadline = time.monotonic() + delay_s
                while time.monotonic() < deadline and not sender.is_cancelled():
                    time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
            if sender.is_cancelled():
                # Tests read this line from the server log to prove that
                # closing the client's stream cancels work inside Triton.
                pb_utils.Logger.log_info(f"repeat: request tag={tag.decode(errors='replace')} cancelled after {index} responses")
                sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                return
            if index == fail_at:
                error = pb_utils.TritonError(f"repeat: failing on purpose at response {index}")
                sender.send(pb_utils.InferenceResponse(error=error),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                return
            response = pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("INDEX", np.array([index], dtype=np.int32)),
                pb_utils.Tensor("TAG", np.array([tag], dtype=np.object_)),
            ])
            sender.send(response)
        sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def finalize(self):
        for thread in self.threads:
            thread.join(timeout=1.0)
