import { expect, test } from "bun:test";
import { latencySegments } from "./latency";

const voice = { endpointing_ms: 310, stt_final_ms: 350, llm_first_token_ms: 400, first_sentence_ms: 430, tts_first_chunk_ms: 510, last_chunk_ms: 1900 };

test("a voice turn is cut into endpointing, the rest of STT, LLM and TTS, one after the other", () => {
  expect(latencySegments(voice).map((s) => [s.stage, s.ms])).toEqual([
    ["endpointing", 310],
    ["stt", 40],
    ["llm", 50],
    ["tts", 110],
  ]);
});

test("a text turn has no endpointing or STT: the bar starts at the LLM", () => {
  const text = { ...voice, endpointing_ms: null, stt_final_ms: null };
  expect(latencySegments(text).map((s) => [s.stage, s.ms])).toEqual([
    ["llm", 400],
    ["tts", 110],
  ]);
});
