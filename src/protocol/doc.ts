/**
 * Renders docs/protocol.md from the protocol module itself, so the document cannot drift from what
 * the server accepts and sends (a test compares the file with this output).
 */
import { z } from "zod";
import { CLOSE_CODES, ClientMessage, ErrorCode, LIMITS, ServerMessage } from "./messages";

const CLIENT_NOTES: Record<string, string> = {
  start: "Opens a session. Every field is optional; `conversation_id` continues a conversation of the same user (`\"latest\"`: the one the user used last).",
  audio: "Base64 16-bit little-endian mono PCM at the session's input rate. Binary WebSocket frames carry the same bytes without base64.",
  text: "A typed user turn: runs LLM → TTS without STT.",
  utterance_end: "Ends the user's turn now instead of waiting for the VAD's silence; a `transcription` from a client-side STT replaces Morgan's.",
  stop: "Ends the session: a reply in progress is stored as heard, `session_ended` follows, then the socket closes with 1000.",
  config: "Changes session settings mid-session (same fields as `start`).",
  ping: "Answered with `pong` echoing `timestamp`.",
  interrupt: "Barge-in by the client: the reply stops, cancelled at Triton, and `interrupted` says what was heard.",
  playback: "How many ms of the current reply the client has actually played; makes `interrupted.heard_text` exact.",
  resume: "Re-attaches to a session after a dropped socket (on any instance) and replays every message after `last_seq`.",
};

const SERVER_NOTES: Record<string, string> = {
  session_started: "The session is ready. Keep `session_id` and `resume_token` to resume after a dropped connection.",
  transcription: "Partial hypotheses while the user speaks (only when they change), then one final transcript per turn.",
  vad_status: "Sent when the user starts or stops speaking.",
  response_text: "Reply text deltas as the LLM writes them; an empty delta with `is_final` ends the text.",
  response_audio: "Reply audio, paced to real time (at most `pipeline.audioLeadMs` ahead of playout); an empty final marker ends it.",
  response_complete: "The turn is over and stored. `latency` is measured from the end of the user's speech.",
  response_paused: "The user started speaking over the reply: pause playback and keep what is buffered. `response_resumed` (it was a cough or a \"mm\") or `interrupted` follows.",
  response_resumed: "No words followed the sound that paused the reply: play on from where it stopped.",
  interrupted: "The reply was cut short; `heard_text` is what the user heard and what is stored. Drop any audio still buffered.",
  error: "`recoverable: true` means the session goes on.",
  pong: "Answer to `ping`.",
  session_ended: "The session is over; `duration` in seconds.",
};

function schemaBlock(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  delete (json as Record<string, unknown>).$schema;
  return ["```json", JSON.stringify(json, null, 2), "```"].join("\n");
}

function section(title: string, options: readonly z.ZodObject[], notes: Record<string, string>): string[] {
  const lines = [`## ${title}`, ""];
  for (const option of options) {
    const type = (option.shape.type as z.ZodLiteral<string>).value;
    lines.push(`### \`${type}\``, "", notes[type] ?? "", "", schemaBlock(option), "");
  }
  return lines;
}

export function renderProtocolDoc(): string {
  const lines = [
    "# Morgan's WebSocket protocol",
    "",
    "<!-- Generated from src/protocol/messages.ts by `bun run gen:protocol-doc`; a test fails when it is stale. -->",
    "",
    "Endpoints: `/ws/stream`, `/ws/stream/:user_id` and `/ws/audio` (the legacy path), one protocol.",
    "Every message is JSON `{type, data}`. Every server message also carries `seq`: 1, 2, 3… per session",
    "(an error before any session exists carries 0). Send the last `seq` you received in `resume`.",
    "",
    "## Limits",
    "",
    "| limit | value |",
    "|---|---|",
    ...Object.entries(LIMITS).map(([name, value]) => `| ${name} | ${value} |`),
    "",
    "## Close codes",
    "",
    "| code | meaning |",
    "|---|---|",
    ...Object.entries(CLOSE_CODES).map(([name, code]) => `| ${code} | ${name} |`),
    "",
    "## Error codes",
    "",
    ErrorCode.options.map((code) => `\`${code}\``).join(", "),
    "",
    ...section("Client → server", ClientMessage.options, CLIENT_NOTES),
    ...section("Server → client", ServerMessage.options, SERVER_NOTES),
  ];
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n").trim()}\n`;
}
