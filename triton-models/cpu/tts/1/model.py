"""Text to speech with CMU Flite (Debian's libflite), loaded in-process through ctypes.

Contract (docs/contract.md): decoupled. The text in `target_text` is split into sentences and each
sentence is synthesised and sent as its own response (`waveform` FP32 in [-1, 1], `sample_rate`
INT32) as soon as it is ready, so the first audio of a long text does not wait for the rest.
Optional `voice` (kal, slt, rms, awb) and `speed` (0.5 .. 2.0, 1 = normal).

Why ctypes and not the `flite` command: the command reloads the voice for every call, which costs
~100 ms for the clustergen voices; in-process the voice is registered once and a 10-word sentence
takes a few ms (kal) to ~80 ms (slt/rms/awb).
"""

import ctypes
import ctypes.util
import json
import os
import re

import numpy as np
import triton_python_backend_utils as pb_utils

# Public voice name -> flite voice library suffix. "kal" is the 16 kHz diphone voice (the 8 kHz one
# would force every client to resample).
VOICES = {"kal": "kal16", "slt": "slt", "rms": "rms", "awb": "awb"}
MAX_TEXT_BYTES = 20000
MAX_SENTENCE_CHARS = 300  # a longer "sentence" is split at commas/semicolons so it streams too
SENTENCE_RE = re.compile(r"[^.!?]+(?:[.!?]+[\"')\]]*|$)")
SPEAKABLE_RE = re.compile(r"[A-Za-z0-9]")


class BadRequest(ValueError):
    pass


class _Wave(ctypes.Structure):
    # cst_wave from flite's cst_wave.h
    _fields_ = [
        ("type", ctypes.c_char_p),
        ("sample_rate", ctypes.c_int),
        ("num_samples", ctypes.c_int),
        ("num_channels", ctypes.c_int),
        ("samples", ctypes.POINTER(ctypes.c_short)),
    ]


class _Voice(ctypes.Structure):
    # leading fields of cst_voice from flite's cst_voice.h (only `features` is used)
    _fields_ = [("name", ctypes.c_char_p), ("features", ctypes.c_void_p), ("ffunctions", ctypes.c_void_p)]


def _load(name):
    # Debian installs libflite*.so.1 (runtime package libflite1) without the unversioned .so link.
    for candidate in (f"lib{name}.so.1", ctypes.util.find_library(name)):
        if candidate:
            try:
                return ctypes.CDLL(candidate, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
    raise pb_utils.TritonModelException(f"cannot load lib{name} (install Debian package libflite1)")


def split_sentences(text):
    out = []
    for m in SENTENCE_RE.finditer(text):
        s = m.group(0).strip()
        if not SPEAKABLE_RE.search(s):
            continue
        while len(s) > MAX_SENTENCE_CHARS:
            cut = max(s.rfind(",", 0, MAX_SENTENCE_CHARS), s.rfind(";", 0, MAX_SENTENCE_CHARS))
            if cut <= 0:
                cut = s.rfind(" ", 0, MAX_SENTENCE_CHARS)
            if cut <= 0:
                cut = MAX_SENTENCE_CHARS
            out.append(s[: cut + 1].strip())
            s = s[cut + 1 :].strip()
        if SPEAKABLE_RE.search(s):
            out.append(s)
    return out


class TritonPythonModel:
    def initialize(self, args):
        self.model_config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(self.model_config):
            raise pb_utils.TritonModelException("tts must be configured decoupled")
        params = {k: v["string_value"] for k, v in self.model_config.get("parameters", {}).items()}
        self.default_voice = params.get("default_voice", "kal")
        if self.default_voice not in VOICES:
            raise pb_utils.TritonModelException(f"default_voice {self.default_voice!r} not in {sorted(VOICES)}")

        self.flite = _load("flite")
        _load("flite_usenglish")
        _load("flite_cmulex")
        self.flite.flite_init()
        self.flite.flite_text_to_wave.restype = ctypes.POINTER(_Wave)
        self.flite.flite_text_to_wave.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        self.flite.flite_feat_set_float.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_float]
        self.flite.flite_feat_set_float.restype = None
        self.flite.delete_wave.argtypes = [ctypes.POINTER(_Wave)]
        self.flite.delete_wave.restype = None
        self.voices = {}
        for public, lib in VOICES.items():
            vlib = _load(f"flite_cmu_us_{lib}")
            register = getattr(vlib, f"register_cmu_us_{lib}")
            register.restype = ctypes.POINTER(_Voice)
            register.argtypes = [ctypes.c_char_p]
            voice = register(None)
            if not voice:
                raise pb_utils.TritonModelException(f"flite voice {lib} failed to register")
            self.voices[public] = voice
        # Warm up every voice once: the first synthesis touches lazily paged-in voice data.
        for public in self.voices:
            self._synth("Ready.", public, 1.0)

    def _synth(self, sentence, voice_name, speed):
        voice = self.voices[voice_name]
        # duration_stretch > 1 is slower speech; speed is its inverse.
        self.flite.flite_feat_set_float(voice.contents.features, b"duration_stretch", 1.0 / speed)
        w = self.flite.flite_text_to_wave(sentence.encode("utf-8"), voice)
        if not w:
            raise RuntimeError(f"flite failed on {sentence!r}")
        try:
            n = w.contents.num_samples * w.contents.num_channels
            pcm = np.ctypeslib.as_array(w.contents.samples, shape=(n,)).astype(np.float32) / 32768.0
            return pcm, int(w.contents.sample_rate)
        finally:
            self.flite.delete_wave(w)

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._handle(request, sender)
            except BadRequest as exc:
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"tts: {exc}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
            except Exception as exc:
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"tts: internal error: {exc!r}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
        return None

    def _handle(self, request, sender):
        t = pb_utils.get_input_tensor_by_name(request, "target_text")
        if t is None:
            raise BadRequest("missing input target_text")
        a = t.as_numpy().reshape(-1)
        if a.size != 1:
            raise BadRequest(f"target_text must hold exactly one string, got {a.size}")
        raw = a[0] if isinstance(a[0], bytes) else str(a[0]).encode("utf-8")
        if len(raw) > MAX_TEXT_BYTES:
            raise BadRequest(f"target_text longer than {MAX_TEXT_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("target_text is not valid UTF-8") from None
        sentences = split_sentences(text)
        if not sentences:
            raise BadRequest("target_text is empty or has nothing speakable")

        voice = self.default_voice
        vt = pb_utils.get_input_tensor_by_name(request, "voice")
        if vt is not None:
            va = vt.as_numpy().reshape(-1)
            if va.size != 1:
                raise BadRequest("voice must hold exactly one string")
            v = va[0].decode("utf-8", "replace") if isinstance(va[0], bytes) else str(va[0])
            v = v.strip().lower() or self.default_voice
            if v not in self.voices:
                raise BadRequest(f"unknown voice {v!r}; available: {', '.join(sorted(self.voices))}")
            voice = v

        speed = 1.0
        st = pb_utils.get_input_tensor_by_name(request, "speed")
        if st is not None:
            sa = st.as_numpy().reshape(-1)
            if sa.size != 1:
                raise BadRequest("speed must hold exactly one value")
            speed = float(sa[0])
            if not np.isfinite(speed) or not 0.5 <= speed <= 2.0:
                raise BadRequest(f"speed must be between 0.5 and 2.0, got {speed}")

        last = len(sentences) - 1
        for i, sentence in enumerate(sentences):
            # A client that cancelled (Morgan on barge-in) gets no more audio: stop synthesising.
            if sender.is_cancelled():
                pb_utils.Logger.log_info("tts: request cancelled by the client; stopping synthesis")
                sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                return
            pcm, sr = self._synth(sentence, voice, speed)
            resp = pb_utils.InferenceResponse(
                output_tensors=[
                    pb_utils.Tensor("waveform", pcm),
                    pb_utils.Tensor("sample_rate", np.array([sr], dtype=np.int32)),
                ]
            )
            # Each sentence leaves as soon as it is synthesised; the last carries the FINAL flag.
            sender.send(resp, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if i == last else 0)
