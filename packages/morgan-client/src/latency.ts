/**
 * The per-turn latency bar: `response_complete.latency` (ms from the end of the user's speech) cut
 * into the stages a user waits through, one after the other: endpointing (deciding the turn is over),
 * the rest of STT, the LLM's first token, TTS's first chunk.
 */
import type { LatencyReport } from "../../../src/protocol/messages";

export interface LatencySegment {
  stage: "endpointing" | "stt" | "llm" | "tts";
  label: string;
  ms: number;
}

/** Stages with a measurement, in order; a stage the report lacks (a text turn's endpointing and STT) is left out. */
export function latencySegments(latency: LatencyReport): LatencySegment[] {
  const marks: [LatencySegment["stage"], string, number | null][] = [
    ["endpointing", "endpointing", latency.endpointing_ms],
    ["stt", "STT final", latency.stt_final_ms],
    ["llm", "LLM first token", latency.llm_first_token_ms],
    ["tts", "TTS first chunk", latency.tts_first_chunk_ms],
  ];
  const segments: LatencySegment[] = [];
  let previous = 0;
  for (const [stage, label, at] of marks) {
    if (at === null) continue;
    segments.push({ stage, label, ms: Math.max(0, at - previous) });
    previous = at;
  }
  return segments;
}
