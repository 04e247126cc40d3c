"""Streaming speech recognition with PocketSphinx 5 (CMU Sphinx, US-English model from its wheel).

Contract (docs/contract.md): sequence model, decoupled. Every request carries a chunk of 16 kHz mono
FP32 audio in `WAV`. For each request that does not end the sequence the model sends one response
with the current partial hypothesis (`IS_FINAL` false); the request flagged sequence_end gets the
final transcript with `IS_FINAL` true and a confidence (mean word posterior) in `CONFIDENCE`.

A PocketSphinx decoder takes about half a second to create (it loads the acoustic model and the
3-gram LM), so decoders are created up front and lent to sequences from a pool.
"""

import json
import time

import numpy as np
import triton_python_backend_utils as pb_utils
from pocketsphinx import Decoder

SAMPLE_RATE = 16000
MAX_CHUNK_SAMPLES = SAMPLE_RATE * 30
# Words that are not words: sentence markers, silence and filler/noise tokens.
NON_WORDS = {"<s>", "</s>", "<sil>"}


class _Seq:
    __slots__ = ("decoder", "touched", "samples")

    def __init__(self, decoder):
        self.decoder = decoder
        self.touched = time.monotonic()
        self.samples = 0


class TritonPythonModel:
    def initialize(self, args):
        self.model_config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(self.model_config):
            raise pb_utils.TritonModelException("stt must be configured decoupled")
        params = {k: v["string_value"] for k, v in self.model_config.get("parameters", {}).items()}
        self.pool_size = int(params.get("decoder_pool_size", "2"))
        self.idle_s = float(params.get("state_idle_seconds", "60"))
        self.pool = [self._new_decoder() for _ in range(self.pool_size)]
        self.sequences = {}
        self.logger = pb_utils.Logger

    @staticmethod
    def _new_decoder():
        # Defaults are the wheel's en-us acoustic model, en-us.lm.bin and cmudict, 16 kHz; the
        # second (fwdflat) and lattice (bestpath) passes stay on: measured here they cost ~150 ms at
        # the end of an utterance but fix most errors the first pass makes.
        return Decoder(samprate=SAMPLE_RATE, loglevel="ERROR")

    def _acquire(self):
        if self.pool:
            return self.pool.pop()
        # More concurrent sequences than pooled decoders: serve them anyway, slowly, and say so.
        self.logger.log_warn("stt: decoder pool exhausted, creating a decoder (~0.5 s)")
        return self._new_decoder()

    def _release(self, seq):
        try:
            seq.decoder.end_utt()
        except Exception:
            pass  # not in an utterance: nothing to end
        if len(self.pool) < self.pool_size:
            self.pool.append(seq.decoder)

    def _evict_idle(self):
        now = time.monotonic()
        for cid in [c for c, s in self.sequences.items() if now - s.touched > self.idle_s]:
            self._release(self.sequences.pop(cid))

    def execute(self, requests):
        self._evict_idle()
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._handle(request, sender)
            except ValueError as exc:
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"stt: {exc}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
            except Exception as exc:  # a decoder failure must not take the model down
                self.logger.log_error(f"stt: {exc!r}")
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"stt: internal error: {exc}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
        return None

    def _handle(self, request, sender):
        start = bool(pb_utils.get_input_tensor_by_name(request, "START").as_numpy().reshape(-1)[0])
        end = bool(pb_utils.get_input_tensor_by_name(request, "END").as_numpy().reshape(-1)[0])
        cid = int(pb_utils.get_input_tensor_by_name(request, "CORRID").as_numpy().reshape(-1)[0])
        wav = pb_utils.get_input_tensor_by_name(request, "WAV")
        if wav is None:
            raise ValueError("missing input WAV")
        a = wav.as_numpy()
        if a.dtype != np.float32:
            raise ValueError(f"WAV must be FP32, got {a.dtype}")
        a = a.reshape(-1)
        if a.size > MAX_CHUNK_SAMPLES:
            raise ValueError(f"WAV chunk of {a.size} samples exceeds {MAX_CHUNK_SAMPLES} (30 s)")
        if not np.all(np.isfinite(a)):
            raise ValueError("WAV contains NaN or infinite samples")

        if start:
            old = self.sequences.pop(cid, None)
            if old is not None:
                self._release(old)
            seq = _Seq(self._acquire())
            seq.decoder.start_utt()
            self.sequences[cid] = seq
        else:
            seq = self.sequences.get(cid)
            if seq is None:
                raise ValueError(
                    f"sequence {cid} has no open utterance (send sequence_start first; idle "
                    f"sequences are dropped after {self.idle_s:.0f} s)"
                )
        seq.touched = time.monotonic()

        if a.size:
            pcm = (np.clip(a, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
            seq.decoder.process_raw(pcm, False, False)
            seq.samples += a.size

        if not end:
            hyp = seq.decoder.hyp()
            text = hyp.hypstr if hyp is not None else ""
            sender.send(self._response(text, False, 0.0), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return

        # End of sequence: finish the utterance (second pass + lattice), then free the decoder.
        del self.sequences[cid]
        try:
            seq.decoder.end_utt()
            hyp = seq.decoder.hyp()
            text = hyp.hypstr if hyp is not None else ""
            posts = [
                float(s.prob)
                for s in seq.decoder.seg()
                if s.word not in NON_WORDS and not s.word.startswith(("[", "+"))
            ]
            # seg().prob is the word's posterior probability (pocketsphinx 5 returns it linear).
            conf = float(np.clip(np.mean(posts), 0.0, 1.0)) if posts and text else 0.0
        finally:
            if len(self.pool) < self.pool_size:
                self.pool.append(seq.decoder)
        sender.send(self._response(text, True, conf), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    @staticmethod
    def _response(text, final, conf):
        # Outputs carry the batch dimension (max_batch_size > 0): shape [1, 1].
        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("TRANSCRIPTS", np.array([[text.encode("utf-8")]], dtype=object)),
                pb_utils.Tensor("IS_FINAL", np.array([[final]], dtype=bool)),
                pb_utils.Tensor("CONFIDENCE", np.array([[conf]], dtype=np.float32)),
            ]
        )

    def finalize(self):
        self.sequences.clear()
        self.pool.clear()
