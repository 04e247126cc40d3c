"""Neural TTS with Piper (VITS voices exported to ONNX) on onnxruntime-gpu, behind Morgan's TTS
contract: the text is split into sentences and one response (waveform FP32, sample_rate INT32) is
sent per sentence as soon as it is synthesised.

Voice files are not shipped: put Piper voices (<name>.onnx + <name>.onnx.json) in 1/voices/ and
list them in the `voices` parameter. Not runnable on the CPU development machine; see
docs/triton.md.
"""

import json
import os
import re

import numpy as np
import triton_python_backend_utils as pb_utils

MAX_TEXT_BYTES = 20000
SENTENCE_RE = re.compile(r"[^.!?]+(?:[.!?]+[\"')\]]*|$)")
SPEAKABLE_RE = re.compile(r"[A-Za-z0-9]")


class BadRequest(ValueError):
    pass


class TritonPythonModel:
    def initialize(self, args):
        from piper import PiperVoice

        self.model_config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in self.model_config.get("parameters", {}).items()}
        voice_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "voices")
        files = json.loads(params["voices"])
        self.voices = {name: PiperVoice.load(os.path.join(voice_dir, f), use_cuda=True) for name, f in files.items()}
        self.default_voice = params.get("default_voice", next(iter(self.voices)))
        if self.default_voice not in self.voices:
            raise pb_utils.TritonModelException(f"default_voice {self.default_voice!r} not in voices")

    def _synth(self, sentence, voice, speed):
        from piper import SynthesisConfig

        # length_scale > 1 is slower speech; speed is its inverse.
        chunks = list(self.voices[voice].synthesize(sentence, syn_config=SynthesisConfig(length_scale=1.0 / speed)))
        if not chunks:
            return np.zeros(0, np.float32), self.voices[voice].config.sample_rate
        pcm = np.concatenate([c.audio_float_array.astype(np.float32) for c in chunks])
        return pcm, int(chunks[0].sample_rate)

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._handle(request, sender)
            except BadRequest as exc:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"tts: {exc}")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            except Exception as exc:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"tts: internal error: {exc!r}")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None

    def _handle(self, request, sender):
        a = pb_utils.get_input_tensor_by_name(request, "target_text").as_numpy().reshape(-1)
        if a.size != 1:
            raise BadRequest("target_text must hold exactly one string")
        raw = a[0] if isinstance(a[0], bytes) else str(a[0]).encode()
        if len(raw) > MAX_TEXT_BYTES:
            raise BadRequest(f"target_text longer than {MAX_TEXT_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("target_text is not valid UTF-8") from None
        sentences = [m.group(0).strip() for m in SENTENCE_RE.finditer(text) if SPEAKABLE_RE.search(m.group(0))]
        if not sentences:
            raise BadRequest("target_text is empty or has nothing speakable")
        voice = self.default_voice
        vt = pb_utils.get_input_tensor_by_name(request, "voice")
        if vt is not None:
            v = vt.as_numpy().reshape(-1)[0]
            v = (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)).strip().lower() or voice
            if v not in self.voices:
                raise BadRequest(f"unknown voice {v!r}; available: {', '.join(sorted(self.voices))}")
            voice = v
        speed = 1.0
        st = pb_utils.get_input_tensor_by_name(request, "speed")
        if st is not None:
            speed = float(st.as_numpy().reshape(-1)[0])
            if not np.isfinite(speed) or not 0.5 <= speed <= 2.0:
                raise BadRequest(f"speed must be between 0.5 and 2.0, got {speed}")
        for i, sentence in enumerate(sentences):
            pcm, sr = self._synth(sentence, voice, speed)
            resp = pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("waveform", pcm),
                pb_utils.Tensor("sample_rate", np.array([sr], dtype=np.int32)),
            ])
            sender.send(resp, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if i == len(sentences) - 1 else 0)
