"""A small instruct LLM on llama.cpp (llama-cpp-python), behind the exact interface of Triton's vLLM
backend, so that the GPU's vLLM stays a configuration change:
  inputs  text_input BYTES [1], stream BOOL [1] (optional), sampling_parameters BYTES [1] (optional,
          JSON, vLLM's SamplingParams fields), exclude_input_in_output BOOL [1] (optional)
  output  text_output BYTES [-1]; decoupled; with stream=true one response per token (a delta) and an
          empty response carrying the final flag; with stream=false one response with the whole text.
A request the client cancels (Morgan on barge-in) stops generating at the next token.

The prompt arrives already formatted with the model's chat template (Morgan's src/pipeline/chat-template.ts).
Conversations share long prefixes (system prompt, earlier turns): llama.cpp's state after each reply is
kept in a bounded in-memory cache keyed by tokens (LlamaRAMCache), so a follow-up turn restores the
longest cached prefix and evaluates only its new tokens.
"""

import json
import os
import sys

# llama.cpp's OpenMP threads spin while they wait for each other. When they share the cores with
# Whisper, Piper and the VAD, a spinning thread holds a core another model needs, and a preempted one
# stalls the rest: measured on 2 busy cores, decoding fell from ~24 to 1-5 tokens/s. Passive waiting
# sleeps instead. It must be set before libgomp loads (with llama_cpp); the environment may override it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "lib"))

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from morgan_backend import BadRequest, answer_each, parameters, resolve_weights, scalar_input, text_input  # noqa: E402

# vLLM SamplingParams fields: those honoured here (mapped to llama.cpp's), and those accepted and
# ignored so that a request built for vLLM is not rejected.
HONOURED = {
    "max_tokens", "temperature", "seed", "stop", "top_p", "top_k", "min_p",
    "repetition_penalty", "presence_penalty", "frequency_penalty",
}
IGNORED = {
    "n", "best_of", "min_tokens", "ignore_eos", "skip_special_tokens", "spaces_between_special_tokens",
    "stop_token_ids", "include_stop_str_in_output", "logprobs", "length_penalty",
}
MAX_TOKENS_LIMIT = 4096
MAX_PROMPT_BYTES = 1 << 20


def _number(params, key, default, lo, hi, integer):
    value = params.get(key, default)
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool):
        raise BadRequest(f"sampling_parameters.{key} must be {kind}")
    try:
        # vLLM's backend also accepts numbers sent as strings; so do we.
        number = int(value) if integer else float(value)
        if integer and isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        raise BadRequest(f"sampling_parameters.{key} must be {kind}, got {value!r}") from None
    if not lo <= number <= hi:
        raise BadRequest(f"sampling_parameters.{key} must be in [{lo}, {hi}], got {number}")
    return number


def parse_sampling_parameters(raw):
    """vLLM's sampling_parameters JSON → llama.cpp create_completion arguments (vLLM's defaults)."""
    params = {}
    if raw:
        try:
            params = json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"sampling_parameters is not valid JSON: {exc}") from None
        if not isinstance(params, dict):
            raise BadRequest("sampling_parameters must be a JSON object")
    unknown = set(params) - HONOURED - IGNORED
    if unknown:
        raise BadRequest(f"unknown sampling_parameters: {', '.join(sorted(unknown))}")
    if "n" in params and _number(params, "n", 1, 1, 1 << 20, True) != 1:
        raise BadRequest("only n=1 is supported")
    stop = params.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise BadRequest("sampling_parameters.stop must be a non-empty string or a list of them")
    seed = params.get("seed")
    top_k = _number(params, "top_k", -1, -1, 1 << 20, True)
    return {
        # vLLM's default max_tokens is 16; keep it so both repositories behave alike.
        "max_tokens": _number(params, "max_tokens", 16, 1, MAX_TOKENS_LIMIT, True),
        "temperature": _number(params, "temperature", 1.0, 0.0, 100.0, False),
        "top_p": _number(params, "top_p", 1.0, 1e-6, 1.0, False),
        "top_k": 0 if top_k == -1 else top_k,  # vLLM: -1 = all tokens; llama.cpp: 0 = all tokens
        "min_p": _number(params, "min_p", 0.0, 0.0, 1.0, False),
        "repeat_penalty": _number(params, "repetition_penalty", 1.0, 0.01, 10.0, False),
        "presence_penalty": _number(params, "presence_penalty", 0.0, -2.0, 2.0, False),
        "frequency_penalty": _number(params, "frequency_penalty", 0.0, -2.0, 2.0, False),
        "seed": None if seed is None else _number(params, "seed", None, 0, 2**31 - 1, True),
        "stop": stop,
    }


class TritonPythonModel:
    def initialize(self, args):
        import llama_cpp

        params, config = parameters(args)
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("llm must be configured decoupled (vLLM interface)")
        threads = int(params.get("threads", "2"))
        self.llm = llama_cpp.Llama(
            model_path=resolve_weights(params["gguf"], args),
            n_ctx=int(params.get("context_tokens", "4096")),
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=int(params.get("batch_tokens", "256")),
            n_gpu_layers=int(params.get("gpu_layers", "0")),
            verbose=False,
        )
        cache_mb = int(params.get("prefix_cache_mb", "64"))
        if cache_mb > 0:
            self.llm.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=cache_mb << 20))

    def execute(self, requests):
        answer_each(requests, self._handle, "llm")
        return None

    def _handle(self, request, sender):
        prompt = text_input(request, "text_input", True, MAX_PROMPT_BYTES)
        if not prompt.strip():
            raise BadRequest("text_input is empty")
        stream = scalar_input(request, "stream", False, bool)
        exclude_input = scalar_input(request, "exclude_input_in_output", False, bool)
        if stream and not exclude_input and pb_utils.get_input_tensor_by_name(request, "exclude_input_in_output") is not None:
            # vLLM's backend refuses this combination; so do we, so that both repositories behave alike.
            raise BadRequest("When streaming, `exclude_input_in_output` = False is not allowed.")
        sampling = parse_sampling_parameters(text_input(request, "sampling_parameters", False, 1 << 16))
        self._check_fits(prompt, sampling["max_tokens"])

        completion = self.llm.create_completion(prompt, stream=True, **sampling)
        text = []
        try:
            for chunk in completion:
                # A client that cancelled (Morgan on barge-in) gets no more tokens.
                if sender.is_cancelled():
                    pb_utils.Logger.log_info("llm: request cancelled by the client; stopping generation")
                    break
                delta = chunk["choices"][0]["text"]
                if not delta:
                    continue
                if stream:
                    sender.send(_response(delta))
                text.append(delta)
        finally:
            completion.close()
        if stream:
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        full = "".join(text) if exclude_input else prompt + "".join(text)  # vLLM returns prompt + completion unless told not to
        sender.send(_response(full), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def _check_fits(self, prompt, max_tokens):
        tokens = len(self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        if tokens + max_tokens > self.llm.n_ctx():
            raise BadRequest(
                f"prompt of {tokens} tokens plus max_tokens {max_tokens} exceeds the context of "
                f"{self.llm.n_ctx()} tokens (shorten the conversation context or raise context_tokens)"
            )


def _response(text):
    return pb_utils.InferenceResponse(
        output_tensors=[pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=object))]
    )
