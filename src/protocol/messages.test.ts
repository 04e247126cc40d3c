import { describe, expect, test } from "bun:test";
import { CLIENT_MESSAGE_TYPES, ServerMessage, parseClientMessage } from "./messages";

describe("parseClientMessage", () => {
  test("accepts the seed's own messages", () => {
    for (const raw of [
      '{"type":"start","data":{"language":"en"}}',
      '{"type":"text","data":{"text":"Hello Morgan"}}',
      '{"type":"stop"}',
      '{"type":"utterance_end","data":{"transcription":"hi"}}',
      `{"type":"audio","data":{"audio_data":"${Buffer.from([0, 0, 1, 0]).toString("base64")}"}}`,
    ]) {
      expect(parseClientMessage(raw).ok).toBe(true);
    }
  });

  test("names the problem for each kind of bad input", () => {
    const cases: [string, string, RegExp][] = [
      ["{", "invalid_json", /not valid JSON/],
      ['{"type":"dance"}', "unknown_type", /unknown message type "dance"; expected one of start, audio/],
      ['{"data":{}}', "unknown_type", /unknown message type null/],
      ['{"type":"text","data":{"text":""}}', "invalid_message", /^text: data\.text: /],
      ['{"type":"start","data":{"vad":{"threshold":2}}}', "invalid_message", /data\.vad\.threshold/],
      ['{"type":"resume","data":{"session_id":"nope","resume_token":"x","last_seq":-1}}', "invalid_message", /session_id.*resume_token.*last_seq/],
    ];
    for (const [raw, code, message] of cases) {
      const result = parseClientMessage(raw);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.code).toBe(code as typeof result.code);
      expect(result.message).toMatch(message);
    }
  });

  test("every client type is documented and parseable", () => {
    expect(CLIENT_MESSAGE_TYPES).toContain("interrupt");
    expect(CLIENT_MESSAGE_TYPES).toContain("resume");
    expect(CLIENT_MESSAGE_TYPES.length).toBe(10);
  });

  test("a NUL character is refused at the boundary in every text field (PostgreSQL cannot store it)", () => {
    const cases = [
      '{"type":"text","data":{"text":"en\\u0000"}}',
      '{"type":"start","data":{"language":"en\\u0000"}}',
      '{"type":"config","data":{"system_prompt":"be brief\\u0000"}}',
      '{"type":"config","data":{"voice":"joe\\u0000"}}',
      '{"type":"utterance_end","data":{"transcription":"hi\\u0000there"}}',
    ];
    for (const raw of cases) {
      const result = parseClientMessage(raw);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.code).toBe("invalid_message");
      // A language tag has no room for control characters at all, so it is refused by its pattern.
      expect(result.message).toMatch(raw.includes("language") ? /language: use a language tag/ : /NUL/);
    }
  });

  test("a language must look like a language tag", () => {
    expect(parseClientMessage('{"type":"start","data":{"language":"en-US"}}').ok).toBe(true);
    const result = parseClientMessage('{"type":"start","data":{"language":"e n;"}}');
    expect(result.ok).toBe(false);
  });

  test("an unknown type is named, but never echoed in full", () => {
    const huge = "x".repeat(200_000);
    const result = parseClientMessage(JSON.stringify({ type: huge }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe("unknown_type");
    expect(result.message.length).toBeLessThan(400);
    expect(result.message).toMatch(/unknown message type "xxxx.*…/);
  });

  test("server messages need a sequence number", () => {
    expect(ServerMessage.safeParse({ type: "pong", data: { timestamp: 1 } }).success).toBe(false);
    expect(ServerMessage.safeParse({ type: "pong", seq: 3, data: { timestamp: 1 } }).success).toBe(true);
  });
});
