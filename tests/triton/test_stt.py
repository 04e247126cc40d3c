"""Streaming speech recognition (Whisper tiny.en through faster-whisper): partial hypotheses while
audio arrives, one final per utterance, sequences kept apart, silence left silent, clear errors."""

import numpy as np

from conftest import SAMPLE_RATE, Stream, make_input, normalised_words, silence, speech, wer

SENTENCES = [
    "Please turn off the lights in the kitchen.",
    "What time is it in New York?",
    "Set a timer for ten minutes.",
]
# Longer than the model's 10 s minimum encoder window: the last words lie beyond it.
LONG_TEXT = ("My grandmother lived in a small house near the river. Every summer we visited her and went fishing "
             "early in the morning. She cooked dinner for the whole family on Sunday evenings, and afterwards "
             "we played cards until it was dark.")
CHUNK = 3200  # 200 ms, as a client streaming microphone audio would send


def padded(audio):
    return np.concatenate([silence(0.25), audio, silence(0.25)])


def chunks_of(audio, chunk):
    return [audio[i : i + chunk] for i in range(0, len(audio), chunk)]


def read(result):
    return (
        result.as_numpy("TRANSCRIPTS").reshape(-1)[0].decode(),
        bool(result.as_numpy("IS_FINAL").reshape(-1)[0]),
        float(result.as_numpy("CONFIDENCE").reshape(-1)[0]),
    )


def transcribe(client, chunks, seq_id):
    """Stream the chunks as one sequence; (text, is_final, confidence) for each response with outputs."""
    s = Stream(client)
    try:
        for k, ch in enumerate(chunks):
            s.send("stt", [make_input("WAV", ch[None, :], "FP32")], sequence_id=seq_id,
                   sequence_start=k == 0, sequence_end=k == len(chunks) - 1)
        responses = s.collect(n_final=len(chunks), timeout=120)
    finally:
        s.close()
    out = []
    for result, error in responses:
        assert error is None, error
        if result.get_response().outputs:  # not the empty FINAL-flag response that closes a request
            out.append(read(result))
    return out


def test_partials_then_final_and_wer(client):
    errors, words = 0.0, 0
    for n, sentence in enumerate(SENTENCES):
        chunks = chunks_of(padded(speech(sentence)), CHUNK)
        results = transcribe(client, chunks, seq_id=2000 + n)
        partials, finals = results[:-1], [r for r in results if r[1]]
        assert len(finals) == 1 and results[-1][1], results
        # One partial per non-final chunk, with words before the end of the audio.
        assert len(partials) == len(chunks) - 1 >= 3
        assert not any(p[1] for p in partials) and all(p[2] == 0.0 for p in partials), partials
        assert any(p[0] for p in partials), partials
        text, _, confidence = finals[0]
        assert 0.0 < confidence <= 1.0
        errors += wer(sentence, text) * len(normalised_words(sentence))
        words += len(normalised_words(sentence))
    assert errors / words <= 0.1, f"WER {errors / words:.2%}"


def test_silence_and_noise_give_an_empty_final(client):
    # Whisper "hears" stock phrases such as "Thank you." in silence unless the no-speech rule holds.
    noise = np.random.default_rng(7).normal(0, 0.01, 2 * SAMPLE_RATE).astype(np.float32)
    for n, audio in enumerate([silence(2), noise]):
        results = transcribe(client, chunks_of(audio, SAMPLE_RATE // 2), seq_id=2100 + n)
        assert [r[0] for r in results] == [""] * len(results), results
        assert results[-1][1] and results[-1][2] == 0.0, results


def test_utterance_longer_than_the_minimum_window(client):
    audio = speech(LONG_TEXT)
    assert audio.size > 11 * SAMPLE_RATE, audio.size / SAMPLE_RATE
    results = transcribe(client, chunks_of(audio, 4 * SAMPLE_RATE), seq_id=2150)
    text, final, confidence = results[-1]
    assert final and 0.0 < confidence <= 1.0
    assert wer(LONG_TEXT, text) <= 0.1, text
    assert normalised_words(text)[-3:] == ["it", "was", "dark"], text  # spoken after the first 10 s


def test_final_on_an_empty_chunk_after_a_partial(client):
    # A client may end the sequence with an empty chunk once the user stops: the final then carries the
    # words of the partial decoded from all the audio.
    s = Stream(client)
    try:
        s.send("stt", [make_input("WAV", padded(speech(SENTENCES[1]))[None, :], "FP32")], sequence_id=2160,
               sequence_start=True)
        s.send("stt", [make_input("WAV", np.zeros((1, 0), np.float32), "FP32")], sequence_id=2160, sequence_end=True)
        responses = s.collect(n_final=2, timeout=60)
    finally:
        s.close()
    assert all(e is None for _, e in responses), responses
    (partial, is_final_partial, _), (final, is_final, confidence) = [read(r) for r, _ in responses if r.get_response().outputs]
    assert not is_final_partial and is_final and 0.0 < confidence <= 1.0
    assert final == partial and wer(SENTENCES[1], final) <= 0.15, (partial, final)


def test_concurrent_sequences_do_not_mix(client):
    texts = [(SENTENCES[0], "piper"), (SENTENCES[1], "espeak")]
    chunked = [chunks_of(padded(speech(t, v)), CHUNK) for t, v in texts]
    s = Stream(client)
    try:
        for k in range(max(len(c) for c in chunked)):  # interleave the two sequences' chunks
            for n, chunks in enumerate(chunked):
                if k < len(chunks):
                    s.send("stt", [make_input("WAV", chunks[k][None, :], "FP32")], sequence_id=2201 + n,
                           sequence_start=k == 0, sequence_end=k == len(chunks) - 1, request_id=str(n))
        responses = s.collect(n_final=sum(len(c) for c in chunked), timeout=120)
    finally:
        s.close()
    finals = {}
    for result, error in responses:
        assert error is None, error
        if result.get_response().outputs and read(result)[1]:
            finals[int(result.get_response().id)] = read(result)[0]
    assert wer(texts[0][0], finals[0]) <= 0.15, finals
    assert wer(texts[1][0], finals[1]) <= 0.15, finals


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
    assert "exceeds" in msg, msg
    # A chunk for a sequence that was never started: Triton's sequence batcher refuses it (the
    # model's own check covers sequences whose state it dropped after idling).
    msg = _expect_error(client, [make_input("WAV", np.zeros((1, 3200), np.float32), "FP32")], 2303, start=False)
    assert "START" in msg, msg
    # Two chunks in one request: the sequence batcher takes one chunk per request.
    msg = _expect_error(client, [make_input("WAV", np.zeros((2, 3200), np.float32), "FP32")], 2304)
    assert "batch-size 1" in msg, msg
    assert client.is_model_ready("stt")
    results = transcribe(client, [padded(speech("Hello there."))], seq_id=2305)
    assert results[-1][1] and wer("Hello there.", results[-1][0]) == 0.0, results
