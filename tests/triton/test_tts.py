"""Text to speech (Piper, voice en_US-joe-medium at 22,050 Hz): one response per sentence as soon as it
is ready, then an empty final response; voice and speed options; clear errors; cancellation.

Piper samples phoneme durations, so two syntheses of one text differ slightly in length: the duration
checks compare texts or speeds that differ by far more than that."""

import time

import numpy as np
import pytest

from conftest import LogWatch, Stream, has_outputs, is_final, make_input, text_tensor

VOICE = "en_US-joe-medium"
PIPER_RATE = 22050
PANGRAM = "The quick brown fox jumps over the lazy dog."


def tts_inputs(text, voice=None, speed=None):
    inputs = [text_tensor("target_text", text)]
    if voice is not None:
        inputs.append(text_tensor("voice", voice))
    if speed is not None:
        inputs.append(make_input("speed", np.array([speed], dtype=np.float32), "FP32"))
    return inputs


def speak(client, text, **kw):
    """A list of (waveform, sample_rate, seconds since the request) per response with audio, and the
    final flag of every response."""
    s = Stream(client)
    out, flags = [], []
    try:
        t0 = time.perf_counter()
        s.send("tts", tts_inputs(text, **kw))
        while True:
            result, error = s.q.get(timeout=60)
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


def test_valid_audio_one_response_per_sentence_then_an_empty_final(client):
    chunks, flags = speak(client, "Hello there. How are you today? I am fine!")
    assert len(chunks) == 3
    assert flags[-1] and not any(flags[:-1]) and len(flags) == len(chunks) + 1
    for w, sr, _ in chunks:
        assert sr == PIPER_RATE and w.dtype == np.float32 and w.ndim == 1
        assert np.all(np.isfinite(w)) and np.all(np.abs(w) <= 1.0)
        assert np.sqrt(np.mean(w**2)) > 0.01  # audible, not silence
        assert 0.3 < len(w) / sr < 5


def test_duration_grows_with_text(client):
    short = duration(speak(client, "Hello.")[0])
    medium = duration(speak(client, "Hello, it is nice to meet you today.")[0])
    long = duration(speak(client, "Hello, it is nice to meet you today. I hope the weather stays "
                                  "pleasant, and that you have a wonderful afternoon with your friends.")[0])
    assert short < medium < long


def test_long_text_streams_first_sentence_early(client):
    text = " ".join(f"This is sentence number {i} of a rather long answer." for i in range(1, 9))
    chunks, _ = speak(client, text)
    assert len(chunks) == 8
    # Each sentence is sent when it is ready: the first arrives long before the whole text is done.
    assert chunks[0][2] < chunks[-1][2] / 3, [c[2] for c in chunks]


def test_voice_and_speed(client):
    named = speak(client, PANGRAM, voice=VOICE)[0]
    assert len(named) == 1 and named[0][1] == PIPER_RATE
    base = duration(speak(client, PANGRAM)[0])  # the default voice
    fast = duration(speak(client, PANGRAM, speed=1.5)[0])
    slow = duration(speak(client, PANGRAM, speed=0.7)[0])
    assert fast < base < slow, (fast, base, slow)
    assert duration(named) == pytest.approx(base, rel=0.25)


@pytest.mark.parametrize(
    "inputs,needle",
    [
        (lambda: tts_inputs(""), "target_text is empty"),
        (lambda: tts_inputs(" ... !? "), "nothing speakable"),
        (lambda: tts_inputs("Hello.", voice="x"), f"unknown voice 'x'; installed voices: {VOICE}"),
        (lambda: tts_inputs("Hello.", speed=5.0), "speed must be between 0.5 and 2.0"),
        (lambda: tts_inputs("Hello.", speed=float("nan")), "speed must be between 0.5 and 2.0"),
        (lambda: tts_inputs(b"\xff\xfe"), "not valid UTF-8"),
        (lambda: tts_inputs("word " * 5000), "longer than"),
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


def test_cancellation_stops_synthesis(client):
    log = LogWatch()
    text = " ".join(f"This is sentence number {i} of a rather long answer." for i in range(1, 41))
    s = Stream(client)
    s.send("tts", tts_inputs(text))
    result, error = s.q.get(timeout=60)
    assert error is None and has_outputs(result), error
    s.client.stop_stream(cancel_requests=True)
    log.wait_for("tts: request cancelled by the client")
