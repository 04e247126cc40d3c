"""End-of-turn detection with Smart Turn v3.2 (Pipecat's open model; ONNX on onnxruntime), one file
for both repositories.

Contract (docs/contract.md): not decoupled, no sequence. A request carries exactly one of two inputs:
- `AUDIO`: up to the last 8 s of the user's turn, 16 kHz mono FP32 (longer input keeps its last 8 s).
  `PROBABILITY` is Smart Turn's probability that the user has finished the turn, in [0, 1]. It hears
  how something was said as well as what: a trailing "and…" with a rising pitch scores low. Flat
  synthetic prosody defeats it, so Morgan backs it with the text check and a maximum wait.
- `TRANSCRIPT`: the words of the turn so far. `PROBABILITY` is the text end-of-utterance check: the
  probability that a small instruct LLM (SmolLM2-135M-Instruct on llama.cpp, the GGUF the CPU `llm`
  uses) puts "." "?" or "!" next after `<|im_start|>user\n<words, lower case, no punctuation>`. A
  sentence cut at a pause ("set a timer for") scores near 0, a whole one 0.1-0.6. Nothing is kept
  between requests. Where llama_cpp or the GGUF is missing, TRANSCRIPT requests fail with "text check
  unavailable" and Morgan decides from the audio alone.

The model takes Whisper-style log-mel features (80 x 800) of 8 s of audio, zero-padded at the front
and normalised to zero mean and unit variance before the spectrogram, computed here with
faster-whisper's feature extractor.
"""

import os
import re
import sys

# llama.cpp's OpenMP threads must sleep, not spin, on cores shared with the other models (see llm's model.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "lib"))

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from morgan_backend import (  # noqa: E402
    BadRequest,
    audio_rows,
    onnx_providers,
    onnx_session_options,
    parameters,
    resolve_weights,
    text_input,
)

SAMPLE_RATE = 16000
WINDOW = 8 * SAMPLE_RATE
FRAMES = WINDOW // 160
MAX_INPUT_SAMPLES = 30 * SAMPLE_RATE
MAX_TRANSCRIPT_BYTES = 4096
# The end of an utterance is decided by its last words; a bounded prompt keeps the check fast.
MAX_WORDS = 48
# The error a TRANSCRIPT request gets where the text check cannot run (Morgan matches it).
UNAVAILABLE = "text check unavailable"


class TritonPythonModel:
    def initialize(self, args):
        import onnxruntime
        from faster_whisper.feature_extractor import FeatureExtractor

        params, _ = parameters(args)
        self.session = onnxruntime.InferenceSession(
            resolve_weights(params["onnx"], args),
            sess_options=onnx_session_options(int(params.get("threads", "1"))),
            providers=onnx_providers(params.get("device", "cpu"), args),
        )
        self.features = FeatureExtractor(feature_size=80, chunk_length=8)
        self.text = None
        self.text_unavailable = "no text_gguf parameter"
        if params.get("text_gguf"):
            try:
                self.text = TextCheck(resolve_weights(params["text_gguf"], args), int(params.get("text_threads", "1")))
                self.text_unavailable = None
            except Exception as exc:  # a GPU image without llama_cpp, or no GGUF: audio alone decides
                self.text_unavailable = str(exc)
                pb_utils.Logger.log_warn(f"turn: {UNAVAILABLE} ({exc}); TRANSCRIPT requests will fail")

    def execute(self, requests):
        # Every clip of every request (a request may carry several rows) goes through the network once.
        responses, clips = [], []
        for request in requests:
            try:
                transcript = text_input(request, "TRANSCRIPT", False, MAX_TRANSCRIPT_BYTES)
                if transcript is not None:
                    responses.append(self._text(request, transcript))
                    continue
                rows = [self._features(row) for row in audio_rows(request, "AUDIO", MAX_INPUT_SAMPLES)]
                responses.append(len(rows))
                clips.extend(rows)
            except BadRequest as exc:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"turn: {exc}")))
        probabilities = iter(self.session.run(None, {"input_features": np.stack(clips)})[0].reshape(-1) if clips else [])
        for i, rows in enumerate(responses):
            if isinstance(rows, int):
                p = np.array([[float(next(probabilities))] for _ in range(rows)], dtype=np.float32)  # [rows, 1]
                responses[i] = pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("PROBABILITY", p)])
        return responses

    def _text(self, request, transcript):
        if pb_utils.get_input_tensor_by_name(request, "AUDIO") is not None:
            raise BadRequest("send AUDIO or TRANSCRIPT, not both")
        if self.text is None:
            raise BadRequest(f"{UNAVAILABLE}: {self.text_unavailable}")
        p = np.array([[self.text.probability(transcript)]], dtype=np.float32)  # [1, 1]
        return pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("PROBABILITY", p)])

    def _features(self, audio):
        if audio.size == 0:
            raise BadRequest("AUDIO is empty")
        audio = audio[-WINDOW:]
        audio = np.pad(audio, (WINDOW - audio.size, 0))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
        return self.features(audio, padding=0)[:, :FRAMES].astype(np.float32)


class TextCheck:
    """The probability that the words so far end a sentence: the LLM's next-token mass on . ? !"""

    def __init__(self, gguf, threads):
        import llama_cpp

        # logits_all: llama-cpp-python keeps the logits it exposes in `scores` only with it.
        self.llm = llama_cpp.Llama(
            model_path=gguf, n_ctx=128, n_threads=threads, n_threads_batch=threads, logits_all=True, verbose=False
        )
        self.prefix = self.llm.tokenize(b"<|im_start|>user\n", add_bos=False, special=True)
        self.ends = [self.llm.tokenize(p.encode(), add_bos=False, special=False)[0] for p in (".", "?", "!")]

    def probability(self, transcript):
        words = re.sub(r"[^\w\s']|_", " ", transcript.lower()).split()[-MAX_WORDS:]
        if not words:
            return 0.0
        # Special tokens in the user's words stay text: only the prefix is tokenised with them.
        tokens = self.prefix + self.llm.tokenize(" ".join(words).encode(), add_bos=False, special=False)
        self.llm.reset()  # nothing from an earlier request (another user's words) is reused
        self.llm.eval(tokens)
        logits = np.asarray(self.llm.scores[self.llm.n_tokens - 1], dtype=np.float64)
        e = np.exp(logits - logits.max())
        return float(e[self.ends].sum() / e.sum())
