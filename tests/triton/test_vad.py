import numpy as np
import pytest
from tritonclient.utils import InferenceServerException

from conftest import Stream, make_input, speech

FRAME = 512


def run_vad(client, audio, chunk, seq_id):
    """Stream audio in chunks of `chunk` samples as one sequence; return all probabilities."""
    chunks = [audio[i : i + chunk] for i in range(0, len(audio), chunk)]
    s = Stream(client)
    try:
        for k, ch in enumerate(chunks):
            s.send("vad", [make_input("AUDIO", ch[None, :], "FP32")], sequence_id=seq_id,
                   sequence_start=k == 0, sequence_end=k == len(chunks) - 1)
        responses = s.collect(n_final=len(chunks))
    finally:
        s.close()
    probs = []
    for result, error in responses:
        assert error is None, error
        probs.extend(result.as_numpy("PROBS").reshape(-1).tolist())
    return np.array(probs)


def test_speech_marked_and_silence_not(client):
    spoken = speech("The quick brown fox jumps over the lazy dog near the river bank.")
    silence = np.zeros(16000, dtype=np.float32)
    audio = np.concatenate([silence, spoken, silence])
    probs = run_vad(client, audio, 1600, seq_id=1001)
    assert len(probs) == len(audio) // FRAME
    lead = probs[: 16000 // FRAME - 1]
    trail = probs[-(16000 // FRAME - 4):]
    mid = probs[16000 // FRAME + 4 : (16000 + len(spoken)) // FRAME - 4]
    assert lead.max() < 0.2, lead
    assert trail.max() < 0.3, trail
    assert np.mean(mid > 0.5) > 0.6, mid


def test_leftover_samples_carry_between_chunks(client):
    # Chunk sizes that are not multiples of 512: frames must be counted across chunk boundaries,
    # and the result must match sending the whole audio at once.
    audio = speech("Hello there.", "espeak")
    whole = run_vad(client, audio, len(audio), seq_id=1002)
    odd = run_vad(client, audio, 700, seq_id=1003)
    assert len(whole) == len(odd) == len(audio) // FRAME
    np.testing.assert_allclose(whole, odd, atol=1e-4)


def test_silence_only(client):
    probs = run_vad(client, np.zeros(16000 * 2, dtype=np.float32), 4000, seq_id=1004)
    assert len(probs) == 62 and probs.max() < 0.2


def _infer_error(client, inputs, seq_id):
    with pytest.raises(InferenceServerException) as exc:
        client.infer("vad", inputs, sequence_id=seq_id, sequence_start=True, sequence_end=True)
    return str(exc.value)


def test_malformed_inputs_get_errors_and_model_stays_ready(client):
    bad = np.zeros((1, 1024), dtype=np.float32)
    bad[0, 10] = np.nan
    assert "NaN" in _infer_error(client, [make_input("AUDIO", bad, "FP32")], 1010)
    # Wrong datatype: rejected by Triton against config.pbtxt before the model runs.
    msg = _infer_error(client, [make_input("AUDIO", np.zeros((1, 512), np.int16), "INT16")], 1011)
    assert "data-type" in msg and "expects" in msg, msg
    # A 31 s chunk is not a stream chunk.
    msg = _infer_error(client, [make_input("AUDIO", np.zeros((1, 16000 * 31), np.float32), "FP32")], 1012)
    assert "exceeds" in msg
    # Missing sequence id: Triton refuses a sequence model request without a correlation id.
    with pytest.raises(InferenceServerException):
        client.infer("vad", [make_input("AUDIO", np.zeros((1, 512), np.float32), "FP32")])
    assert client.is_model_ready("vad")
    probs = run_vad(client, np.zeros(2048, np.float32), 2048, seq_id=1013)
    assert len(probs) == 4


def test_interleaved_sequences_match_separate_runs(client):
    # Chunks of 4 sequences sent back to back on one stream get batched by the sequence batcher
    # into one execute() (one batched ONNX call per frame); each sequence's probabilities must be the
    # same as when it runs alone.
    audios = [speech(t, v) for t, v in
              [("Good morning.", "piper"), ("Turn the lights off.", "espeak"), ("What time is it?", "piper"), ("Hello.", "espeak")]]
    alone = [run_vad(client, a, 1000, seq_id=1100 + n) for n, a in enumerate(audios)]
    chunked = [[a[i : i + 1000] for i in range(0, len(a), 1000)] for a in audios]
    before = batched_executions(client)
    s = Stream(client)
    try:
        total = 0
        for k in range(max(len(c) for c in chunked)):
            for n, chunks in enumerate(chunked):
                if k < len(chunks):
                    s.send("vad", [make_input("AUDIO", chunks[k][None, :], "FP32")], sequence_id=1200 + n,
                           sequence_start=k == 0, sequence_end=k == len(chunks) - 1, request_id=f"{n}:{k}")
                    total += 1
        responses = s.collect(n_final=total)
    finally:
        s.close()
    got = {n: {} for n in range(len(audios))}
    for result, error in responses:
        assert error is None, error
        n, k = map(int, result.get_response().id.split(":"))
        got[n][k] = result.as_numpy("PROBS").reshape(-1)
    for n in range(len(audios)):
        probs = np.concatenate([got[n][k] for k in sorted(got[n])])
        np.testing.assert_allclose(probs, alone[n], atol=1e-4)
    assert batched_executions(client) > before, "no two sequences' chunks ran as one batch"


def batched_executions(client):
    """How many executions of the VAD so far held more than one request."""
    stats = client.get_inference_statistics("vad").model_stats[0]
    return sum(b.compute_infer.count for b in stats.batch_stats if b.batch_size > 1)
