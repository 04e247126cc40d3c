import { describe, expect, test } from "bun:test";
import { UtteranceInterruption } from "./interruption";
import { testOptions } from "./testing";

const during = (overrides: Parameters<typeof testOptions>[0] = {}) => new UtteranceInterruption(() => testOptions(overrides), "playing");

describe("UtteranceInterruption", () => {
  test("long enough speech pauses the reply; a word then interrupts it", () => {
    const utterance = during();
    expect(utterance.speechLongEnough("playing")).toBe("pause");
    expect(utterance.heardWords(1, "paused")).toBe("interrupt");
    expect(utterance.ignoresTranscript("none")).toBe(false);
  });

  test("a false interruption: no words by the end of the utterance, the paused reply resumes and the sound is no turn", () => {
    const utterance = during();
    expect(utterance.speechLongEnough("playing")).toBe("pause");
    expect(utterance.utteranceEnded(0, "paused")).toBe("resume");
    expect(utterance.ignoresTranscript("playing")).toBe(true);
  });

  test("a paused reply resumes after the false-interruption timeout of silence", () => {
    const utterance = during();
    utterance.speechLongEnough("playing");
    expect(utterance.silence(1000, "paused")).toBe("none");
    expect(utterance.silence(1500, "paused")).toBe("resume");
    expect(utterance.silence(3000, "playing")).toBe("none");
  });

  test("below min_words the reply keeps playing; at min_words it stops", () => {
    const utterance = during({ interruption: { minWords: 3, resumeFalseInterruption: false } });
    expect(utterance.speechLongEnough("playing")).toBe("none");
    expect(utterance.heardWords(2, "playing")).toBe("none");
    expect(utterance.heardWords(3, "playing")).toBe("interrupt");
  });

  test("without resuming false interruptions, long enough speech stops the reply at once", () => {
    expect(during({ interruption: { resumeFalseInterruption: false } }).speechLongEnough("playing")).toBe("interrupt");
  });

  test("words before the speech is long enough do not interrupt", () => {
    const utterance = during({ interruption: { minWords: 1, resumeFalseInterruption: false } });
    expect(utterance.heardWords(1, "playing")).toBe("none");
    expect(utterance.speechLongEnough("playing")).toBe("interrupt");
  });

  test("short speech over the reply (echo, a backchannel) is ignored; without echo cancellation even after the reply ends", () => {
    const withAec = during();
    expect(withAec.ignoresTranscript("playing")).toBe(true);
    expect(withAec.ignoresTranscript("none")).toBe(false);
    const withoutAec = during({ interruption: { echoCancellation: false } });
    expect(withoutAec.ignoresTranscript("none")).toBe(true);
  });

  test("speech while no reply plays interrupts nothing and is a turn", () => {
    const utterance = new UtteranceInterruption(() => testOptions(), "none");
    expect(utterance.speechLongEnough("none")).toBe("none");
    expect(utterance.heardWords(4, "none")).toBe("none");
    expect(utterance.ignoresTranscript("none")).toBe(false);
  });
});
