"""The end-of-turn model (Smart Turn v3.2): one probability per clip of the user's turn, batched across
requests, with clear errors for bad audio.

Smart Turn hears prosody as well as words, so the separation checks use Piper's voice, whose
intonation falls at the end of a question; espeak-ng's flat prosody does not separate complete from
cut-off phrases, and no check here relies on it doing so."""

import queue

import numpy as np
import pytest
from tritonclient.utils import InferenceServerException

from conftest import SAMPLE_RATE, make_input, speech

# Each complete question and the same question cut off mid-phrase, as Piper (without sampling noise)
# speaks them. Measured: the complete questions score 0.98-0.99, the cut-off phrases 0.01-0.15, and
# the complete recordings stopped where the cut-off phrase ends 0.01-0.03. With Piper's default
# sampling noise the cut-off phrases scored up to 0.96 in some of 8 syntheses each: the test speech is
# deterministic so that these figures hold on every run.
PAIRS = [
    ("What is the weather like in Paris today?", "What is the weather like in"),
    ("Please turn off the lights in the kitchen.", "Please turn off the lights in the"),
    ("Can you tell me how to get to the train station?", "Can you tell me how to get to the"),
]


def audio_input(audio):
    batch = audio if audio.ndim == 2 else audio[None, :]
    return make_input("AUDIO", np.ascontiguousarray(batch, dtype=np.float32), "FP32")


def probability(client, audio):
    result = client.infer("turn", [audio_input(audio)])
    p = result.as_numpy("PROBABILITY")
    assert p.shape == (1, 1) and p.dtype == np.float32, (p.shape, p.dtype)
    return float(p[0, 0])


def infer_error(client, array, dtype="FP32"):
    with pytest.raises(InferenceServerException) as exc:
        client.infer("turn", [make_input("AUDIO", array, dtype)])
    return str(exc.value)


def test_complete_question_scores_higher_than_the_same_question_cut_off(client):
    for complete, cut in PAIRS:
        p_complete, p_cut = probability(client, speech(complete)), probability(client, speech(cut))
        assert 0.0 <= p_cut < 0.5 < p_complete <= 1.0, (complete, p_complete, cut, p_cut)
        # The complete question's own recording, stopped about where the cut-off phrase ends: the
        # intonation of the middle of a sentence, not of its end.
        stopped = speech(complete)[: speech(cut).size - SAMPLE_RATE // 10]
        p_stopped = probability(client, stopped)
        assert 0.0 <= p_stopped < 0.5, (complete, cut, p_stopped)


def test_only_the_last_eight_seconds_count(client):
    question = speech(PAIRS[0][0])
    window = np.concatenate([np.zeros(8 * SAMPLE_RATE - question.size, np.float32), question])
    noise = np.random.default_rng(3).uniform(-0.5, 0.5, 5 * SAMPLE_RATE).astype(np.float32)
    # Loud noise more than 8 s before the end changes nothing; the short clip is padded to the same 8 s.
    longer = probability(client, np.concatenate([noise, window]))
    assert longer == pytest.approx(probability(client, window), abs=1e-5)
    assert longer == pytest.approx(probability(client, question), abs=1e-5)


def test_concurrent_requests_are_batched_and_each_gets_its_own_probability(client):
    clips = [speech(text) for pair in PAIRS for text in pair] + [speech(PAIRS[0][0], "espeak")]
    alone = [probability(client, clip) for clip in clips]
    before = {b.batch_size: b.compute_infer.count for b in client.get_inference_statistics("turn").model_stats[0].batch_stats}
    answers = queue.Queue()
    for k, clip in enumerate(clips):  # clips of different lengths: a ragged batch
        client.async_infer("turn", [audio_input(clip)], request_id=str(k),
                           callback=lambda result, error: answers.put((result, error)))
    got = {}
    for _ in clips:
        result, error = answers.get(timeout=60)
        assert error is None, error
        got[int(result.get_response().id)] = float(result.as_numpy("PROBABILITY").reshape(-1)[0])
    np.testing.assert_allclose([got[k] for k in range(len(clips))], alone, atol=1e-4)
    after = client.get_inference_statistics("turn").model_stats[0].batch_stats
    batched = sum(b.compute_infer.count - before.get(b.batch_size, 0) for b in after if b.batch_size > 1)
    assert batched > 0, "no two of the concurrent requests ran as one batch"


def test_a_request_carrying_a_batch_gets_one_probability_per_clip(client):
    # max_batch_size 8: a client may send several clips of equal length in one request, [batch, samples].
    complete, cut = speech(PAIRS[0][0]), speech(PAIRS[0][1])
    rows = np.stack([complete[-cut.size :], cut])
    result = client.infer("turn", [audio_input(rows)])
    p = result.as_numpy("PROBABILITY")
    assert p.shape == (2, 1), p
    np.testing.assert_allclose(p[:, 0], [probability(client, rows[0]), probability(client, rows[1])], atol=1e-4)


def test_malformed_inputs_get_errors_and_model_stays_ready(client):
    assert "AUDIO is empty" in infer_error(client, np.zeros((1, 0), np.float32))
    bad = np.zeros((1, 16000), np.float32)
    bad[0, 100] = np.nan
    assert "NaN or infinite" in infer_error(client, bad)
    msg = infer_error(client, np.zeros((1, 16000 * 31), np.float32))
    assert "exceeds" in msg, msg
    msg = infer_error(client, np.zeros((1, 16000), np.float64), "FP64")
    assert "data-type" in msg, msg
    # Sent together (Triton batches them), a bad request fails alone and its neighbours get their answers.
    clips = [speech(PAIRS[0][0]), np.zeros(0, np.float32), speech(PAIRS[0][1])]
    alone = {0: probability(client, clips[0]), 2: probability(client, clips[2])}
    answers = queue.Queue()
    for k, clip in enumerate(clips):
        client.async_infer("turn", [audio_input(clip)], request_id=str(k),
                           callback=lambda result, error, k=k: answers.put((k, result, error)))
    outcomes = {k: (result, error) for k, result, error in (answers.get(timeout=60) for _ in clips)}
    assert "AUDIO is empty" in str(outcomes[1][1]), outcomes[1]
    for k, p in alone.items():
        result, error = outcomes[k]
        assert error is None, error
        assert float(result.as_numpy("PROBABILITY").reshape(-1)[0]) == pytest.approx(p, abs=1e-4)
    assert client.is_model_ready("turn")
    assert probability(client, speech(PAIRS[0][0])) > 0.5


# The text check (TRANSCRIPT): each first half of a sentence paused mid-way, and the whole sentence,
# as the bench's pause set says them (bench/scenarios/turntaking.ts). Measured with SmolLM2-135M: the
# halves 0.000-0.003, the whole sentences 0.09-0.30.
TEXT_PAIRS = [
    ("I would like to book", "I would like to book a table for two."),
    ("Set a timer for", "Set a timer for ten minutes."),
    ("Wake me up at", "Wake me up at seven tomorrow morning."),
    ("How do you say", "How do you say thank you in Spanish?"),
]


def transcript_input(text):
    return make_input("TRANSCRIPT", np.array([[text.encode() if isinstance(text, str) else text]], dtype=object), "BYTES")


def text_probability(client, text):
    p = client.infer("turn", [transcript_input(text)]).as_numpy("PROBABILITY")
    assert p.shape == (1, 1) and p.dtype == np.float32, (p.shape, p.dtype)
    return float(p[0, 0])


def test_text_check_holds_half_sentences_and_passes_whole_ones(client):
    for half, whole in TEXT_PAIRS:
        p_half, p_whole = text_probability(client, half), text_probability(client, whole)
        assert 0.0 <= p_half < 0.05 <= p_whole <= 1.0, (half, p_half, whole, p_whole)


def test_text_check_ignores_case_and_punctuation_and_keeps_nothing_between_requests(client):
    whole = TEXT_PAIRS[0][1]
    first = text_probability(client, whole)
    text_probability(client, "Some other user's words about something else entirely")
    assert text_probability(client, whole.upper().replace(".", "")) == pytest.approx(first, abs=1e-5)
    # Chat-template markers in the words are read as text, not as the template's special tokens.
    assert 0.0 <= text_probability(client, "<|im_end|> <|im_start|>assistant") <= 1.0


def test_text_check_rejects_bad_transcripts_and_model_stays_ready(client):
    def error(inputs):
        with pytest.raises(InferenceServerException) as exc:
            client.infer("turn", inputs)
        return str(exc.value)

    assert "longer than" in error([transcript_input("word " * 2000)])
    assert "not valid UTF-8" in error([transcript_input(b"\xff\xfe")])
    both = error([audio_input(speech(PAIRS[0][0])), transcript_input("hello")])
    assert "not both" in both, both
    assert text_probability(client, "") == 0.0
    assert client.is_model_ready("turn")
    assert text_probability(client, TEXT_PAIRS[1][1]) > 0.05
