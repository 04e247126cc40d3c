/**
 * Turn-taking against fakes of the VAD, STT and turn models (src/inference/fakes.ts): no Triton.
 * Audio is fed in 20 ms chunks as fast as the stage takes it; decisions follow the audio's own
 * durations, so the tests are exact.
 */
import { describe, expect, test } from "bun:test";
import pino from "pino";
import { FakeStt, FakeTurnDetector, FakeVad, fakeAudio } from "../../inference/fakes";
import type { EventOf, PipelineEvent } from "../events";
import type { ResolvedSettings } from "../settings";
import { testOptions } from "./testing";
import { TurnTaking } from "./turn-taking";

const CHUNK = 320;

function harness(overrides: Parameters<typeof testOptions>[0] = {}) {
  const vad = new FakeVad();
  const stt = new FakeStt();
  const turnModel = new FakeTurnDetector();
  const settings = { language: "en", turnTaking: testOptions(overrides) } as ResolvedSettings;
  const stage = new TurnTaking({ vad, stt, turn: turnModel, settings: () => settings });
  const events: PipelineEvent[] = [];
  stage.attach((event) => events.push(event), pino({ level: "silent" }));

  const feed = async (...parts: Float32Array[]) => {
    for (const part of parts) {
      for (let i = 0; i < part.length; i += CHUNK) stage.receive({ kind: "audio", samples: part.subarray(i, i + CHUNK), receivedAt: performance.now() });
      await stage.drained();
      await stage.listened();
    }
  };
  const of = <K extends PipelineEvent["kind"]>(kind: K) => events.filter((e): e is EventOf<K> => e.kind === kind);
  /** Waits (up to 2 s) for work that settles on its own: a model's answer, a final transcript. */
  const until = async (condition: () => boolean) => {
    const deadline = Date.now() + 2000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`never happened; events: ${events.map((e) => e.kind).join(", ")}`);
      await Bun.sleep(2);
    }
  };
  /** Starts a reply to a typed question, as the rest of the pipeline would see it. */
  const startReply = async () => {
    stage.receive({ kind: "user_text", text: "tell me a story", at: performance.now() });
    await stage.drained();
    const turn = of("user_turn").at(-1)!.turn;
    stage.audioSent(turn, { index: 0, text: "Once upon a time there was a fake." }, 2000, false);
    return turn;
  };
  return { stage, vad, stt, turnModel, settings, events, feed, of, until, startReply };
}

const { silence, words, noise } = fakeAudio;
/** Past the first pause (200 ms) whatever the frame alignment, and far from the maximum wait. */
const PAUSE_MS = 300;

describe("end of turn", () => {
  test("early: the turn model is sure at the first pause, so the turn ends there with the speculative final", async () => {
    const h = harness();
    await h.feed(silence(100), words(3), silence(PAUSE_MS));
    await h.until(() => h.of("user_turn").length === 1);
    const [stopped] = h.of("speech_stopped");
    expect(stopped!.reason).toBe("model");
    expect(h.of("user_turn")[0]!.turn.userText).toBe("word1 word2 word3");
    expect(h.of("speculation").map((e) => e.outcome)).toEqual(["used"]);
    expect(h.stt.opened).toBe(1);
    // The text check read the speculative final's words.
    expect(h.turnModel.transcripts).toEqual(["word1 word2 word3"]);
    const latency = h.of("user_turn")[0]!.turn.latency();
    expect(latency.endpointing_ms).toBeGreaterThanOrEqual(0);
    expect(latency.stt_final_ms).toBeGreaterThanOrEqual(latency.endpointing_ms!);
  });

  test("late: the model thinks the user unfinished, so the turn ends only after the maximum silence", async () => {
    const h = harness();
    h.turnModel.probability = 0.1;
    await h.feed(words(2), silence(PAUSE_MS));
    await h.until(() => h.turnModel.calls === 1);
    await Bun.sleep(20);
    expect(h.of("user_turn")).toEqual([]);
    await h.feed(silence(1800));
    await h.until(() => h.of("user_turn").length === 1);
    expect(h.of("speech_stopped")[0]!.reason).toBe("max_wait");
  });

  test("a half sentence is held although the audio sounds finished; the whole sentence then ends the turn", async () => {
    const h = harness();
    h.turnModel.probability = 0.95;
    // As the text check scores "set a timer for" (0.0004) against "set a timer for ten minutes" (0.30).
    h.turnModel.textProbability = (words) => (words.split(" ").length < 4 ? 0.0004 : 0.3);
    await h.feed(words(2), silence(PAUSE_MS));
    await h.until(() => h.turnModel.transcripts.length === 1);
    await Bun.sleep(20);
    expect(h.of("speech_stopped")).toEqual([]);
    await h.feed(silence(500), words(2), silence(PAUSE_MS));
    await h.until(() => h.of("user_turn").length === 1);
    expect(h.of("speech_stopped")[0]!.reason).toBe("model");
    expect(h.turnModel.transcripts).toEqual(["word1 word2", "word1 word2 word3 word4"]);
    expect(h.of("user_turn")[0]!.turn.userText).toBe("word1 word2 word3 word4");
  });

  test("a half sentence that never goes on still ends at the maximum wait", async () => {
    const h = harness();
    h.turnModel.textProbability = () => 0.001;
    await h.feed(words(2), silence(PAUSE_MS));
    await h.until(() => h.turnModel.transcripts.length === 1);
    await Bun.sleep(20);
    expect(h.of("user_turn")).toEqual([]);
    await h.feed(silence(1800));
    await h.until(() => h.of("user_turn").length === 1);
    expect(h.of("speech_stopped")[0]!.reason).toBe("max_wait");
  });

  test("without a text check, or when it fails, the audio alone decides", async () => {
    for (const answer of [null, new Error("text check timed out")]) {
      const h = harness();
      h.turnModel.probability = 0.9;
      h.turnModel.textProbability = () => answer;
      await h.feed(words(2), silence(PAUSE_MS));
      await h.until(() => h.of("user_turn").length === 1);
      expect(h.of("speech_stopped")[0]!.reason).toBe("model");
      expect(h.turnModel.transcripts).toEqual(["word1 word2"]);
    }
  });

  test("silence mode ends after the configured silence without asking the turn model", async () => {
    const h = harness({ endpointing: { mode: "silence", silenceMs: 500 } });
    await h.feed(words(2), silence(300));
    expect(h.of("speech_stopped")).toEqual([]);
    await h.feed(silence(250));
    await h.until(() => h.of("user_turn").length === 1);
    expect(h.of("speech_stopped")[0]!.reason).toBe("silence");
    expect(h.turnModel.calls).toBe(0);
    expect(h.turnModel.transcripts).toEqual([]);
  });

  test("a mid-sentence pause: the user goes on, the speculative final is discarded, and one turn holds every word", async () => {
    const h = harness();
    h.turnModel.probability = 0.1;
    await h.feed(words(2), silence(PAUSE_MS));
    await h.until(() => h.turnModel.calls === 1);
    await h.feed(silence(500), words(2));
    h.turnModel.probability = 0.9;
    await h.feed(silence(PAUSE_MS));
    await h.until(() => h.of("user_turn").length === 1);
    expect(h.of("user_turn")[0]!.turn.userText).toBe("word1 word2 word3 word4");
    expect(h.of("speculation").map((e) => e.outcome)).toEqual(["discarded", "used"]);
    expect(h.stt.opened).toBe(2);
  });

  test("the client's utterance_end ends the turn at once, and its own transcript replaces Morgan's", async () => {
    const h = harness();
    h.turnModel.probability = 0.1;
    await h.feed(words(2));
    h.stage.receive({ kind: "utterance_end", at: performance.now(), transcription: "typed by the client" });
    await h.until(() => h.of("user_turn").length === 1);
    expect(h.of("user_turn")[0]!.turn.userText).toBe("typed by the client");
    expect(h.stt.aborted).toBe(1);
  });
});

describe("interruptions", () => {
  test("speech below the barge-in length leaves the reply playing", async () => {
    const h = harness();
    const reply = await h.startReply();
    await h.feed(noise(200), silence(100));
    expect(h.of("reply_paused")).toEqual([]);
    expect(reply.state).toBe("running");
  });

  test("speech above it pauses the reply, and a word stops it; the words become the next turn", async () => {
    const h = harness();
    const reply = await h.startReply();
    await h.feed(words(2));
    expect(h.of("reply_paused").length).toBe(1);
    await h.until(() => h.of("interrupt").length === 1);
    expect(h.of("interrupt")[0]).toMatchObject({ reason: "barge_in" });
    expect(reply.state).toBe("interrupted");
    expect(reply.cancelled).toBe(true);
    await h.feed(words(1), silence(PAUSE_MS));
    await h.until(() => h.of("user_turn").length === 2);
    expect(h.of("user_turn")[1]!.turn.userText).toBe("word1 word2 word3");
  });

  test("a false interruption: a sound with no words pauses the reply, which resumes where it stopped; the sound is no turn", async () => {
    const h = harness();
    const reply = await h.startReply();
    await h.feed(noise(400), silence(PAUSE_MS));
    await h.until(() => h.of("reply_resumed").length === 1);
    expect(h.of("reply_paused").length).toBe(1);
    expect(reply.state).toBe("running");
    expect(h.of("interrupt")).toEqual([]);
    expect(h.of("user_turn").length).toBe(1);
  });

  test("with min_words, speech alone does not stop the reply; enough words do", async () => {
    const h = harness({ interruption: { minWords: 2, resumeFalseInterruption: false } });
    const reply = await h.startReply();
    await h.feed(words(1));
    await Bun.sleep(10);
    expect(reply.state).toBe("running");
    await h.feed(words(1));
    await h.until(() => h.of("interrupt").length === 1);
  });

  test("echo: without echo cancellation, short speech over the reply is ignored, even once the reply is done", async () => {
    const h = harness({ interruption: { echoCancellation: false } });
    const reply = await h.startReply();
    await h.feed(words(2), silence(PAUSE_MS));
    expect(h.of("reply_paused")).toEqual([]);
    h.stage.replyDone(reply);
    await h.until(() => h.of("transcript").some((t) => t.transcript.isFinal));
    await Bun.sleep(10);
    expect(h.of("user_turn").length).toBe(1);
    expect(reply.state).toBe("complete");
  });

  test("a typed question interrupts the reply and starts the next turn", async () => {
    const h = harness();
    const reply = await h.startReply();
    h.stage.receive({ kind: "user_text", text: "never mind", at: performance.now() });
    await h.stage.drained();
    expect(h.of("interrupt")[0]).toMatchObject({ reason: "client" });
    expect(reply.state).toBe("interrupted");
    expect(h.of("user_turn").at(-1)!.turn.userText).toBe("never mind");
  });
});

test("when the VAD model fails the client hears about it once, and recognition goes on when it is back", async () => {
  const h = harness();
  h.vad.failing = true;
  await h.feed(words(2));
  expect(h.of("error").length).toBe(1);
  h.vad.failing = false;
  await h.feed(words(2), silence(PAUSE_MS));
  await h.until(() => h.of("user_turn").length === 1);
});

describe("voice-activity slots (issue 12, defect 2)", () => {
  test("a session that falls quiet gives its VAD sequence back, and takes a fresh one when audio comes again", async () => {
    const h = harness({ vad: { releaseAfterMs: 100 } });
    let closed = 0;
    const open = h.vad.open.bind(h.vad);
    h.vad.open = () => {
      const stream = open();
      return { push: stream.push, close: async () => void (closed += 1) };
    };
    await h.feed(words(2), silence(300));
    expect([h.vad.opened, closed]).toEqual([1, 0]);
    await h.until(() => closed === 1);
    await h.feed(words(2), silence(PAUSE_MS));
    expect(h.vad.opened).toBe(2);
    // The fresh sequence hears the new speech as a turn of its own.
    await h.until(() => h.of("user_turn").length === 2);
    await h.stage.close();
  });
});
