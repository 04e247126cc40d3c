import time

import numpy as np
import pytest

from conftest import Stream, has_outputs, is_final, make_input


def tts_inputs(text, voice=None, speed=None):
    inputs = [make_input("target_text", np.array([text.encode()], dtype=object), "BYTES")]
    if voice is not None:
        inputs.append(make_input("voice", np.array([voice.encode()], dtype=object), "BYTES"))
    if speed is not None:
        inputs.append(make_input("speed", np.array([speed], dtype=np.float32), "FP32"))
    return inputs


def speak(client, text, **kw):
    """Return a list of (waveform, sample_rate, seconds since request) per response, and flags."""
    s = Stream(client)
    out, flags = [], []
    try:
        t0 = time.perf_counter()
        s.send("tts", tts_inputs(text, **kw))
        while True:
            result, error = s.q.get(timeout=30)
            assert error is None, error
            flags.append(is_final(result))
            if has_outputs(result):
                out.append((result.as_numpy("waveform"), int(result.as_numpy("sample_rate")[0]),
                            time.perf_counter() - t0))
            if flags[-1]:
                break
    finally:
        s.close()
    return out, flags


def duration(chunks):
    return sum(len(w) / sr for w, sr, _ in chunks)


def test_valid_audio_one_response_per_sentence(client):
    chunks, flags = speak(client, "Hello there. How are you today? I am fine!")
    assert len(chunks) == 3
    assert flags[-1] and not any(flags[:-1])
    for w, sr, _ in chunks:
        assert sr == 16000 and w.dtype == np.float32 and w.ndim == 1
        assert np.all(np.abs(w) <= 1.0) and np.sqrt(np.mean(w**2)) > 0.01  # audible, not silence
        assert 0.3 < len(w) / sr < 5


def test_duration_grows_with_text(client):
    short = duration(speak(client, "Hello.")[0])
    medium = duration(speak(client, "Hello, it is nice to meet you today.")[0])
    long = duration(speak(client, "Hello, it is nice to meet you today. I hope the weather stays "
                                  "pleasant, and that you have a wonderful afternoon with your friends.")[0])
    assert short < medium < long


def test_long_text_streams_first_sentence_early(client):
    text = " ".join(f"This is sentence number {i} of a rather long answer." for i in range(1, 13))
    chunks, _ = speak(client, text, voice="slt")
    assert len(chunks) == 12
    # The first sentence arrives long before the whole text is done.
    assert chunks[0][2] < chunks[-1][2] / 3, [c[2] for c in chunks]


def test_voices_and_speed(client):
    base = speak(client, "The quick brown fox jumps over the lazy dog.", voice="slt")[0]
    rms = speak(client, "The quick brown fox jumps over the lazy dog.", voice="rms")[0]
    assert not np.array_equal(base[0][0][:1000], rms[0][0][:1000])
    fast = duration(speak(client, "The quick brown fox jumps over the lazy dog.", voice="slt", speed=1.5)[0])
    slow = duration(speak(client, "The quick brown fox jumps over the lazy dog.", voice="slt", speed=0.7)[0])
    assert fast < duration(base) < slow


@pytest.mark.parametrize(
    "inputs,needle",
    [
        (lambda: tts_inputs(""), "empty"),
        (lambda: tts_inputs(" ... !? "), "nothing speakable"),
        (lambda: tts_inputs("Hello.", voice="darth"), "unknown voice"),
        (lambda: tts_inputs("Hello.", speed=5.0), "speed"),
        (lambda: tts_inputs("Hello.", speed=float("nan")), "speed"),
        (lambda: [make_input("target_text", np.array([3.0], np.float32), "FP32")], "data-type"),
    ],
)
def test_malformed_inputs_get_errors_and_model_stays_ready(client, inputs, needle):
    s = Stream(client)
    try:
        s.send("tts", inputs())
        responses = s.collect(n_final=1)
    finally:
        s.close()
    errors = [str(e) for _, e in responses if e is not None]
    assert errors and needle in errors[0], responses
    assert client.is_model_ready("tts")
    assert len(speak(client, "Still working.")[0]) == 1
