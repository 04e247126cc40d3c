"""The GPU repository cannot run here, but its configs must parse as Triton ModelConfig and declare
exactly the CPU repository's tensor contract, so a deployment swaps repositories by configuration."""

import ast
import json
import os

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from conftest import ROOT

MODELS = ("vad", "stt", "llm", "tts")


def load(repo, model):
    with open(os.path.join(ROOT, "triton-models", repo, model, "config.pbtxt")) as f:
        # Parse strictly: an unknown field or a syntax error raises.
        return text_format.Parse(f.read(), model_config_pb2.ModelConfig())


def io_signature(cfg):
    sig = lambda ios: sorted((t.name, model_config_pb2.DataType.Name(t.data_type), tuple(t.dims)) for t in ios)
    return sig(cfg.input), sig(cfg.output)


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
    }
    for model, (inputs, outputs) in expect.items():
        assert io_signature(load("cpu", model)) == (inputs, outputs), model
    decoupled = {m: load("cpu", m).model_transaction_policy.decoupled for m in MODELS}
    assert decoupled == {"vad": False, "stt": True, "llm": True, "tts": True}


def test_gpu_engines():
    llm = load("gpu", "llm")
    assert llm.backend == "vllm"
    with open(os.path.join(ROOT, "triton-models/gpu/llm/1/model.json")) as f:
        engine = json.load(f)
    assert "instruct" in engine["model"].lower()
    assert 0 < engine["gpu_memory_utilization"] < 1
    for model in ("stt", "tts"):
        cfg = load("gpu", model)
        assert cfg.backend == "python"
        assert [g.kind for g in cfg.instance_group] == [model_config_pb2.ModelInstanceGroup.Kind.KIND_GPU]
    # The python models must at least be valid Python (they cannot be imported without a GPU stack).
    for model in MODELS:
        path = os.path.join(ROOT, "triton-models/gpu", model, "1/model.py")
        if os.path.exists(path):
            with open(path) as f:
                ast.parse(f.read(), path)
    assert os.path.samefile(os.path.join(ROOT, "triton-models/gpu/vad/1/model.py"),
                            os.path.join(ROOT, "triton-models/cpu/vad/1/model.py"))
