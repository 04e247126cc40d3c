import numpy as np
import pytest

from conftest import Stream, flite_audio, make_input, wer

SENTENCES = [
    "the weather is nice today",
    "please turn off the lights in the kitchen",
    "what time is it in new york",
]
CHUNK = 3200  # 200 ms, as a client streaming microphone audio would send


def transcribe(client, audio, seq_id, chunk=CHUNK):
    chunks = [audio[i : i + chunk] for i in range(0, len(audio), chunk)]
    s = Stream(client)
    try:
        for k, ch in enumerate(chunks):
            s.send("stt", [make_input("WAV", ch[None, :], "FP32")], sequence_id=seq_id,
                   sequence_start=k == 0, sequence_end=k == len(chunks) - 1)
        responses = s.collect(n_final=len(chunks), timeout=60)
    finally:
        s.close()
    out = []
    for result, error in responses:
        assert error is None, error
        if not result.get_response().outputs:
            continue  # the empty FINAL-flag response that closes a request
        out.append((
            result.as_numpy("TRANSCRIPTS").reshape(-1)[0].decode(),
            bool(result.as_numpy("IS_FINAL").reshape(-1)[0]),
            float(result.as_numpy("CONFIDENCE").reshape(-1)[0]),
        ))
    return out


def test_partials_then_final_and_wer(client):
    errors, words = 0.0, 0
    for n, sentence in enumerate(SENTENCES):
        silence = np.zeros(4000, np.float32)
        audio = np.concatenate([silence, flite_audio(sentence, voice="slt"), silence])
        results = transcribe(client, audio, seq_id=2000 + n)
        partials = [r for r in results if not r[1]]
        finals = [r for r in results if r[1]]
        assert len(finals) == 1 and results[-1][1], results
        # One partial per non-final chunk, and they must show words before the end of the audio.
        assert len(partials) == len(results) - 1 >= 3
        assert any(p[0] for p in partials), partials
        text, _, conf = finals[0]
        assert 0.0 < conf <= 1.0
        errors += wer(sentence, text) * len(sentence.split())
        words += len(sentence.split())
    assert errors / words <= 0.15, f"WER {errors / words:.2%}"


def test_silence_gives_empty_final(client):
    results = transcribe(client, np.zeros(16000, np.float32), seq_id=2100)
    assert results[-1][1] and results[-1][0] == "" and results[-1][2] == 0.0


def test_concurrent_sequences_do_not_mix(client):
    pad = np.zeros(4000, np.float32)
    a = np.concatenate([pad, flite_audio(SENTENCES[0]), pad])
    b = np.concatenate([pad, flite_audio(SENTENCES[1]), pad])
    s = Stream(client)
    try:
        ca = [a[i : i + CHUNK] for i in range(0, len(a), CHUNK)]
        cb = [b[i : i + CHUNK] for i in range(0, len(b), CHUNK)]
        for k in range(max(len(ca), len(cb))):  # interleave the two sequences' chunks
            for sid, chunks in ((2201, ca), (2202, cb)):
                if k < len(chunks):
                    s.send("stt", [make_input("WAV", chunks[k][None, :], "FP32")], sequence_id=sid,
                           sequence_start=k == 0, sequence_end=k == len(chunks) - 1, request_id=str(sid))
        responses = s.collect(n_final=len(ca) + len(cb), timeout=60)
    finally:
        s.close()
    finals = {}
    for result, error in responses:
        assert error is None, error
        if result.get_response().outputs and result.as_numpy("IS_FINAL").reshape(-1)[0]:
            finals[result.get_response().id] = result.as_numpy("TRANSCRIPTS").reshape(-1)[0].decode()
    assert wer(SENTENCES[0], finals["2201"]) <= 0.2, finals
    assert wer(SENTENCES[1], finals["2202"]) <= 0.2, finals


def _expect_error(client, inputs, seq_id, start=True, end=True):
    s = Stream(client)
    try:
        s.send("stt", inputs, sequence_id=seq_id, sequence_start=start, sequence_end=end)
        responses = s.collect(n_final=1)
    finally:
        s.close()
    errors = [e for _, e in responses if e is not None]
    assert errors, responses
    return str(errors[0])


def test_malformed_inputs_get_errors_and_model_stays_ready(client):
    bad = np.zeros((1, 3200), np.float32)
    bad[0, 5] = np.inf
    assert "NaN or infinite" in _expect_error(client, [make_input("WAV", bad, "FP32")], 2300)
    msg = _expect_error(client, [make_input("WAV", np.zeros((1, 3200), np.float64), "FP64")], 2301)
    assert "data-type" in msg, msg
    msg = _expect_error(client, [make_input("WAV", np.zeros((1, 16000 * 31), np.float32), "FP32")], 2302)
    assert "exceeds" in msg
    # A chunk for a sequence that was never started: Triton's sequence batcher refuses it (the
    # model's own check covers sequences whose state it dropped after idling).
    msg = _expect_error(client, [make_input("WAV", np.zeros((1, 3200), np.float32), "FP32")], 2303, start=False)
    assert "START" in msg, msg
    assert client.is_model_ready("stt")
    results = transcribe(client, flite_audio("hello", voice="kal16"), seq_id=2304)
    assert results[-1][1]
