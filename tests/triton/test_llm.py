"""The LLM (SmolLM2-135M-Instruct on llama.cpp) behind Triton's vLLM-backend interface: streamed
deltas then an empty final response, vLLM's sampling_parameters and defaults, clear errors, and
cancellation that stops generation.

Greedy decoding (temperature 0) is deterministic. Seeded sampling is not bit-reproducible when a
prompt prefix is restored from the model's prefix cache (llama.cpp then evaluates a different batch),
so no check here expects the same seed to give the same reply at temperature > 0."""

import json

import numpy as np
import pytest

from conftest import LogWatch, Stream, has_outputs, is_final, make_input, text_tensor

SYSTEM = "You are Morgan, a friendly voice assistant. Give short, correct answers."
STOP = ["<|im_end|>", "<|im_start|>"]
GREEDY = {"temperature": 0, "stop": STOP}


def chat(question, system=SYSTEM):
    """A ChatML prompt (SmolLM2's chat template), as Morgan formats it."""
    return (f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n"
            "<|im_start|>assistant\n")


def llm_inputs(prompt, stream=True, params=None, exclude=True, raw_params=None):
    inputs = [
        text_tensor("text_input", prompt),
        make_input("stream", np.array([stream], dtype=bool), "BOOL"),
        make_input("exclude_input_in_output", np.array([exclude], dtype=bool), "BOOL"),
    ]
    if params is not None or raw_params is not None:
        inputs.append(text_tensor("sampling_parameters", raw_params if raw_params is not None else json.dumps(params)))
    return inputs


def run(client, inputs):
    s = Stream(client)
    try:
        s.send("llm", inputs)
        return s.collect(n_final=1, timeout=120)
    finally:
        s.close()


def generate(client, prompt, **kw):
    """(text of each response with outputs, final flag of every response)."""
    deltas, flags = [], []
    for result, error in run(client, llm_inputs(prompt, **kw)):
        assert error is None, error
        flags.append(is_final(result))
        if has_outputs(result):
            deltas.append(result.as_numpy("text_output").reshape(-1)[0].decode())
    return deltas, flags


def reply(client, question, **params):
    return "".join(generate(client, chat(question), params={**GREEDY, "max_tokens": 40, **params})[0])


def error_of(client, inputs):
    errors = [str(e) for _, e in run(client, inputs) if e is not None]
    assert len(errors) == 1, errors
    return errors[0]


def test_streams_deltas_then_an_empty_final_response(client):
    responses = run(client, llm_inputs(chat("What's the capital of France?"), params={**GREEDY, "max_tokens": 40}))
    assert all(error is None for _, error in responses), responses
    *deltas, last = [result for result, _ in responses]
    assert is_final(last) and not has_outputs(last)
    assert len(deltas) >= 2 and all(has_outputs(r) and not is_final(r) for r in deltas)
    text = "".join(r.as_numpy("text_output").reshape(-1)[0].decode() for r in deltas)
    assert "Paris" in text, text
    assert not any(marker in text for marker in STOP), text  # the reply ends at the template's end marker


def test_answers_simple_questions_and_greedy_is_deterministic(client):
    first = reply(client, "What is 2+2?")
    assert "4" in first, first
    assert reply(client, "What is 2+2?") == first


def test_sampling_differs_between_seeds(client):
    params = {"max_tokens": 12, "temperature": 1.0, "top_p": 0.95}
    replies = {"".join(generate(client, chat("Tell me a short story."), params=dict(params, seed=s))[0])
               for s in range(5)}
    assert len(replies) > 1, replies


def test_max_tokens_and_stop_respected(client):
    prompt = chat("Tell me about the sun.")
    deltas, _ = generate(client, prompt, params={"max_tokens": 3, "temperature": 0})
    assert len(deltas) == 3, deltas
    # vLLM's default max_tokens (16) applies when sampling_parameters is absent.
    deltas, _ = generate(client, prompt, params=None)
    assert len(deltas) == 16, deltas
    full = "".join(generate(client, prompt, params={"max_tokens": 40, "temperature": 0})[0])
    words = full.split()
    assert len(words) > 6, full
    stop = words[5]
    for stops in ([stop], stop):  # a list of stop strings, or one string
        cut = "".join(generate(client, prompt, params={"max_tokens": 40, "temperature": 0, "stop": stops})[0])
        assert cut == full[: full.find(stop)], (full, stop, cut)


def test_non_streaming_includes_prompt_unless_excluded(client):
    prompt = chat("Play some music.")
    params = {"max_tokens": 20, "temperature": 0}
    with_prompt, flags = generate(client, prompt, stream=False, params=params, exclude=False)
    without, _ = generate(client, prompt, stream=False, params=params, exclude=True)
    assert len(with_prompt) == 1 and flags == [True]
    assert with_prompt[0] == prompt + without[0]
    streamed, _ = generate(client, prompt, params=params)
    assert "".join(streamed) == without[0]


def test_vllm_fields_it_does_not_use_are_accepted(client):
    deltas, _ = generate(client, chat("Tell me about the sun."), params={"max_tokens": 2, "temperature": 0, "top_k": -1,
                                                         "skip_special_tokens": True, "n": 1})
    assert len(deltas) == 2, deltas


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"raw_params": "{not json"}, "not valid JSON"),
        ({"raw_params": "[1, 2]"}, "JSON object"),
        ({"params": {"max_tokens": 0}}, "sampling_parameters.max_tokens"),
        ({"params": {"max_tokens": "many"}}, "sampling_parameters.max_tokens"),
        ({"params": {"max_tokens": 2.5}}, "sampling_parameters.max_tokens"),
        ({"params": {"temperature": -1}}, "sampling_parameters.temperature"),
        ({"params": {"temperature": True}}, "sampling_parameters.temperature"),
        ({"params": {"top_p": 0}}, "sampling_parameters.top_p"),
        ({"params": {"seed": -1}}, "sampling_parameters.seed"),
        ({"params": {"stop": [""]}}, "sampling_parameters.stop"),
        ({"params": {"stop": 3}}, "sampling_parameters.stop"),
        ({"params": {"n": 2}}, "n=1"),
        ({"params": {"frobnicate": 1}}, "unknown sampling_parameters: frobnicate"),
    ],
)
def test_bad_sampling_parameters(client, kwargs, needle):
    msg = error_of(client, llm_inputs(chat("hello"), **kwargs))
    assert needle in msg, msg
    assert client.is_model_ready("llm")


def test_bad_prompts_get_errors_and_model_stays_ready(client):
    assert "text_input is empty" in error_of(client, llm_inputs("   "))
    assert "not valid UTF-8" in error_of(client, llm_inputs(b"\xff\xfe"))
    assert "longer than" in error_of(client, llm_inputs("x" * ((1 << 20) + 1)))
    assert "missing input text_input" in error_of(client, [text_tensor("sampling_parameters", "{}")])
    assert "data-type" in error_of(client, [make_input("text_input", np.array([1], dtype=np.int32), "INT32")])
    msg = error_of(client, llm_inputs(chat("hello"), params={"max_tokens": 4096}))
    assert "exceeds the context" in msg, msg
    assert client.is_model_ready("llm")
    deltas, _ = generate(client, chat("Tell me about the sun."), params={"max_tokens": 5, "temperature": 0})
    assert len(deltas) == 5


def test_cancellation_stops_generation(client):
    log = LogWatch()
    # A counting prompt without stop strings keeps generating up to max_tokens (minutes of work).
    s = Stream(client)
    s.send("llm", llm_inputs("1, 2, 3, 4, 5, 6, 7,", params={"max_tokens": 3000, "temperature": 0}))
    for _ in range(3):
        result, error = s.q.get(timeout=60)
        assert error is None and has_outputs(result) and not is_final(result), (result, error)
    s.client.stop_stream(cancel_requests=True)
    log.wait_for("llm: request cancelled by the client")
    # One instance runs one generation at a time: this reply can only come once the cancelled one stopped
    # (its remaining ~3000 tokens would take minutes).
    deltas, flags = generate(client, chat("Tell me about the sun."), params={"max_tokens": 3, "temperature": 0})
    assert len(deltas) == 3 and flags[-1]


def test_concurrent_requests_each_get_their_own_reply(client):
    s = Stream(client)
    questions = {"a": "What is 2+2?", "b": "What's the capital of France?"}
    try:
        for rid, question in questions.items():
            s.send("llm", llm_inputs(chat(question), params={**GREEDY, "max_tokens": 40}), request_id=rid)
        responses = s.collect(n_final=2, timeout=120)
    finally:
        s.close()
    texts = {rid: "" for rid in questions}
    for result, error in responses:
        assert error is None, error
        if has_outputs(result):
            texts[result.get_response().id] += result.as_numpy("text_output").reshape(-1)[0].decode()
    assert texts == {rid: reply(client, q) for rid, q in questions.items()}, texts
