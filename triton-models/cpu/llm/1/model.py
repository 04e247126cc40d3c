"""CPU stand-in for the LLM: a statistical word-trigram model (see ngram.py), NOT a neural network.

It speaks the request/response interface of Triton's vLLM backend so that Morgan's client code is
the same against this model and against vLLM on a GPU:
  inputs  text_input BYTES [1], stream BOOL [1] (optional), sampling_parameters BYTES [1] (optional,
          JSON), exclude_input_in_output BOOL [1] (optional)
  output  text_output BYTES [-1]; decoupled; with stream=true one response per token (a delta), the
          last one carrying the FINAL flag; with stream=false one response with the whole text.
"""

import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils
from ngram import TrigramModel, detokenize

# vLLM SamplingParams fields: the ones this model honours, and the ones it accepts and ignores so
# that a request built for vLLM is not rejected here.
HONOURED = {"max_tokens", "temperature", "seed", "stop", "top_p", "top_k"}
IGNORED = {
    "n", "best_of", "presence_penalty", "frequency_penalty", "repetition_penalty", "min_p",
    "min_tokens", "ignore_eos", "skip_special_tokens", "spaces_between_special_tokens",
    "stop_token_ids", "include_stop_str_in_output", "logprobs", "length_penalty",
}
MAX_TOKENS_LIMIT = 4096
MAX_PROMPT_BYTES = 1 << 20


class BadRequest(ValueError):
    pass


def _as_int(params, key, default, lo, hi):
    v = params.get(key, default)
    if isinstance(v, bool):
        raise BadRequest(f"sampling_parameters.{key} must be an integer")
    try:
        # vLLM's backend also accepts numbers sent as strings; so do we.
        iv = int(v)
        if isinstance(v, float) and v != iv:
            raise ValueError
    except (TypeError, ValueError):
        raise BadRequest(f"sampling_parameters.{key} must be an integer, got {v!r}") from None
    if not lo <= iv <= hi:
        raise BadRequest(f"sampling_parameters.{key} must be in [{lo}, {hi}], got {iv}")
    return iv


def _as_float(params, key, default, lo, hi):
    v = params.get(key, default)
    if isinstance(v, bool):
        raise BadRequest(f"sampling_parameters.{key} must be a number")
    try:
        fv = float(v)
    except (TypeError, ValueError):
        raise BadRequest(f"sampling_parameters.{key} must be a number, got {v!r}") from None
    if not (lo <= fv <= hi):
        raise BadRequest(f"sampling_parameters.{key} must be in [{lo}, {hi}], got {fv}")
    return fv


def parse_sampling_parameters(raw):
    if raw is None or raw == b"" or raw == "":
        params = {}
    else:
        try:
            params = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"sampling_parameters is not valid JSON: {exc}") from None
        if not isinstance(params, dict):
            raise BadRequest("sampling_parameters must be a JSON object")
    unknown = set(params) - HONOURED - IGNORED
    if unknown:
        raise BadRequest(f"unknown sampling_parameters: {', '.join(sorted(unknown))}")
    if "n" in params and _as_int(params, "n", 1, 1, 1 << 20) != 1:
        raise BadRequest("only n=1 is supported")
    stop = params.get("stop", [])
    if stop is None:
        stop = []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise BadRequest("sampling_parameters.stop must be a non-empty string or a list of them")
    seed = params.get("seed")
    if seed is not None:
        seed = _as_int(params, "seed", None, -(2**63), 2**63 - 1)
    return {
        # vLLM's default max_tokens is 16; keep it so both repositories behave alike.
        "max_tokens": _as_int(params, "max_tokens", 16, 1, MAX_TOKENS_LIMIT),
        "temperature": _as_float(params, "temperature", 1.0, 0.0, 100.0),
        "top_p": _as_float(params, "top_p", 1.0, 1e-6, 1.0),
        "top_k": _as_int(params, "top_k", -1, -1, 1 << 20),
        "seed": seed,
        "stop": stop,
    }


def _optional_bool(request, name, default):
    t = pb_utils.get_input_tensor_by_name(request, name)
    if t is None:
        return default
    a = t.as_numpy().reshape(-1)
    if a.size != 1:
        raise BadRequest(f"{name} must hold exactly one value")
    return bool(a[0])


def _single_bytes(request, name, required):
    t = pb_utils.get_input_tensor_by_name(request, name)
    if t is None:
        if required:
            raise BadRequest(f"missing input {name}")
        return None
    a = t.as_numpy().reshape(-1)
    if a.size != 1:
        raise BadRequest(f"{name} must hold exactly one string, got {a.size}")
    v = a[0]
    return v if isinstance(v, bytes) else str(v).encode("utf-8")


class TritonPythonModel:
    def initialize(self, args):
        self.model_config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(self.model_config):
            raise pb_utils.TritonModelException("llm must be configured decoupled (vLLM interface)")
        params = {k: v["string_value"] for k, v in self.model_config.get("parameters", {}).items()}
        here = os.path.dirname(os.path.abspath(__file__))
        corpus = os.path.join(here, params.get("corpus", "corpus.txt"))
        self.model = TrigramModel.from_file(corpus)
        self.max_sentences = int(params.get("max_sentences", "3"))

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._handle(request, sender)
            except BadRequest as exc:
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"llm: {exc}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
            except Exception as exc:  # never let one request take the model down
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"llm: internal error: {exc!r}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
        return None

    def _handle(self, request, sender):
        raw_prompt = _single_bytes(request, "text_input", required=True)
        if len(raw_prompt) > MAX_PROMPT_BYTES:
            raise BadRequest(f"text_input longer than {MAX_PROMPT_BYTES} bytes")
        try:
            prompt = raw_prompt.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("text_input is not valid UTF-8") from None
        if not prompt.strip():
            raise BadRequest("text_input is empty")
        stream = _optional_bool(request, "stream", False)
        exclude_input = _optional_bool(request, "exclude_input_in_output", False)
        sp = parse_sampling_parameters(_single_bytes(request, "sampling_parameters", required=False))

        tokens = self.model.generate(
            prompt[-2000:],  # only the end of a long (chat-formatted) prompt says what is asked now
            max_tokens=sp["max_tokens"],
            seed=sp["seed"],
            temperature=sp["temperature"],
            top_p=sp["top_p"],
            top_k=sp["top_k"],
            max_sentences=self.max_sentences,
        )
        deltas = detokenize(tokens)
        # Stop strings: cut the text before the first occurrence (not included, as vLLM's default),
        # then cut the deltas to match so streamed and non-streamed text agree.
        text = "".join(deltas)
        cut = min((i for i in (text.find(s) for s in sp["stop"]) if i >= 0), default=-1)
        if cut >= 0:
            kept, n = [], 0
            for d in deltas:
                if n + len(d) > cut:
                    if cut > n:
                        kept.append(d[: cut - n])
                    break
                kept.append(d)
                n += len(d)
            deltas = kept

        if not stream:
            full = "".join(deltas)
            if not exclude_input:
                full = prompt + full  # vLLM returns prompt + completion unless told not to
            sender.send(self._response(full), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        # Streaming sends completion deltas only (the prompt is never repeated), as vLLM does.
        if not deltas:
            sender.send(self._response(""), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        for d in deltas[:-1]:
            # A client that cancelled (Morgan on barge-in) gets no more tokens.
            if sender.is_cancelled():
                pb_utils.Logger.log_info("llm: request cancelled by the client; stopping generation")
                sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                return
            sender.send(self._response(d))
        sender.send(self._response(deltas[-1]), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    @staticmethod
    def _response(text):
        return pb_utils.InferenceResponse(
            output_tensors=[pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=object))]
        )
