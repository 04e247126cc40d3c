"""Streaming Whisper (faster-whisper / CTranslate2 on the GPU) behind Morgan's STT contract.

Whisper decodes whole windows, not frames, so streaming works by buffering: each sequence keeps its
audio; once at least `partial_interval_seconds` of new audio has arrived the buffer is re-decoded
greedily for a partial hypothesis, and on sequence end it is decoded with beam search for the final
transcript. CONFIDENCE is the duration-weighted mean of exp(avg_logprob) over Whisper's segments.

Not runnable on the CPU development machine; see docs/triton.md for the GPU deployment.
"""

import json
import math
import time

import numpy as np
import triton_python_backend_utils as pb_utils

SAMPLE_RATE = 16000
MAX_CHUNK_SAMPLES = SAMPLE_RATE * 30
MAX_UTTERANCE_SAMPLES = SAMPLE_RATE * 120  # longer turns are a client bug for a voice assistant


class _Seq:
    __slots__ = ("chunks", "samples", "decoded_at", "partial", "touched")

    def __init__(self):
        self.chunks, self.samples, self.decoded_at, self.partial = [], 0, 0, ""
        self.touched = time.monotonic()

    def audio(self):
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)


class TritonPythonModel:
    def initialize(self, args):
        from faster_whisper import WhisperModel

        self.model_config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in self.model_config.get("parameters", {}).items()}
        device_id = int(args.get("model_instance_device_id", "0"))
        self.language = params.get("language", "en") or None
        self.partial_interval = int(float(params.get("partial_interval_seconds", "1.0")) * SAMPLE_RATE)
        self.idle_s = float(params.get("state_idle_seconds", "60"))
        self.model = WhisperModel(
            params.get("whisper_model", "large-v3-turbo"),
            device="cuda",
            device_index=device_id,
            compute_type=params.get("compute_type", "float16"),
        )
        self.sequences = {}

    def _decode(self, audio, final):
        segments, _ = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=5 if final else 1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,  # Morgan's own VAD already cut the turn
        )
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        if not segments or not text:
            return "", 0.0
        weights = [max(s.end - s.start, 1e-3) for s in segments]
        conf = sum(w * math.exp(s.avg_logprob) for w, s in zip(weights, segments)) / sum(weights)
        return text, float(min(max(conf, 0.0), 1.0))

    def execute(self, requests):
        now = time.monotonic()
        for cid in [c for c, s in self.sequences.items() if now - s.touched > self.idle_s]:
            del self.sequences[cid]
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._handle(request, sender)
            except ValueError as exc:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"stt: {exc}")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            except Exception as exc:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"stt: internal error: {exc!r}")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None

    def _handle(self, request, sender):
        start = bool(pb_utils.get_input_tensor_by_name(request, "START").as_numpy().reshape(-1)[0])
        end = bool(pb_utils.get_input_tensor_by_name(request, "END").as_numpy().reshape(-1)[0])
        cid = int(pb_utils.get_input_tensor_by_name(request, "CORRID").as_numpy().reshape(-1)[0])
        a = pb_utils.get_input_tensor_by_name(request, "WAV").as_numpy()
        if a.dtype != np.float32:
            raise ValueError(f"WAV must be FP32, got {a.dtype}")
        a = a.reshape(-1)
        if a.size > MAX_CHUNK_SAMPLES:
            raise ValueError(f"WAV chunk of {a.size} samples exceeds {MAX_CHUNK_SAMPLES} (30 s)")
        if not np.all(np.isfinite(a)):
            raise ValueError("WAV contains NaN or infinite samples")
        if start:
            self.sequences[cid] = _Seq()
        seq = self.sequences.get(cid)
        if seq is None:
            raise ValueError(f"sequence {cid} has no open utterance (send sequence_start first)")
        if seq.samples + a.size > MAX_UTTERANCE_SAMPLES:
            del self.sequences[cid]
            raise ValueError("utterance longer than 120 s")
        seq.touched = time.monotonic()
        if a.size:
            seq.chunks.append(np.clip(a, -1.0, 1.0))
            seq.samples += a.size

        if end:
            del self.sequences[cid]
            text, conf = self._decode(seq.audio(), final=True)
            sender.send(self._response(text, True, conf), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        if seq.samples - seq.decoded_at >= self.partial_interval:
            seq.partial, _ = self._decode(seq.audio(), final=False)
            seq.decoded_at = seq.samples
        sender.send(self._response(seq.partial, False, 0.0), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    @staticmethod
    def _response(text, final, conf):
        return pb_utils.InferenceResponse(output_tensors=[
            pb_utils.Tensor("TRANSCRIPTS", np.array([[text.encode("utf-8")]], dtype=object)),
            pb_utils.Tensor("IS_FINAL", np.array([[final]], dtype=bool)),
            pb_utils.Tensor("CONFIDENCE", np.array([[conf]], dtype=np.float32)),
        ])
