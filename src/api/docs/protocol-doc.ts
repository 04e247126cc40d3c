/**
 * Renders docs/protocol.md from the protocol module itself — a table per message (field, type, bounds,
 * default, meaning) and an example — so the document cannot drift from what the server accepts and
 * sends (a test compares the file with this output).
 */
import type { z } from "zod";
import { configSchema } from "../../config/schema.ts";
import { CLOSE_CODES, ClientMessage, ErrorCode, LIMITS, ServerMessage } from "../../protocol/messages";
import { sessionDefaults } from "../voice.ts";
import { EXAMPLES, FIELD_NOTES, MESSAGE_NOTES } from "./catalog.ts";
import { type JsonSchema, jsonSchemaOf } from "./json-schema.ts";

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** Server defaults of the session settings (`start`), from the configuration schema's defaults. */
function settingDefaults(): Record<string, string> {
  const p = configSchema.parse({}).pipeline;
  const of = (value: unknown, setting?: string) => `\`${String(value)}\`${setting ? ` (pipeline.${setting})` : ""}`;
  return {
    language: of(p.language, "language"),
    voice: of(p.voice, "voice"),
    speed: of(p.speed, "speed"),
    input_sample_rate: of(sessionDefaults(p).inputSampleRate),
    output_sample_rate: of(p.outputSampleRate, "outputSampleRate"),
    audio_format: of("pcm_s16le"),
    "vad.threshold": of(p.vad.threshold, "vad.threshold"),
    "vad.min_silence_ms": of(p.vad.minSilenceMs, "vad.minSilenceMs"),
    "vad.min_speech_ms": of(p.vad.minSpeechMs, "vad.minSpeechMs"),
    "vad.barge_in_min_speech_ms": of(p.vad.bargeInMinSpeechMs, "vad.bargeInMinSpeechMs"),
    "turn_detection.mode": of(p.turnDetection.mode, "turnDetection.mode"),
    "turn_detection.eagerness": of(p.turnDetection.eagerness, "turnDetection.eagerness"),
    "turn_detection.min_endpointing_ms": of(p.turnDetection.minEndpointingMs, "turnDetection.minEndpointingMs"),
    "turn_detection.max_endpointing_ms": of(p.turnDetection.maxEndpointingMs, "turnDetection.maxEndpointingMs"),
    "interruption.min_words": of(p.interruption.minWords, "interruption.minWords"),
    "interruption.resume_false_interruption": of(p.interruption.resumeFalseInterruption, "interruption.resumeFalseInterruption"),
    "interruption.false_interruption_timeout_ms": of(p.interruption.falseInterruptionTimeoutMs, "interruption.falseInterruptionTimeoutMs"),
    system_prompt: "pipeline.systemPrompt",
    echo_cancellation: of(p.echoCancellation, "echoCancellation"),
    max_response_tokens: of(p.maxResponseTokens, "maxResponseTokens"),
    temperature: of(p.temperature, "temperature"),
    seed: "random",
  };
}

export interface FieldRow {
  path: string;
  type: string;
  bounds: string;
  required: boolean;
}

/** Every field of a message's `data`, nested objects flattened to dotted paths. */
export function fieldRows(data: JsonSchema | undefined, prefix = ""): FieldRow[] {
  const object = data?.anyOf?.find((s) => s.type === "object") ?? data;
  if (!object?.properties) return [];
  return Object.entries(object.properties).flatMap(([name, schema]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    const row: FieldRow = { path, type: typeOf(schema), bounds: boundsOf(schema), required: object.required?.includes(name) ?? false };
    return [row, ...(schema.type === "object" ? fieldRows(schema, path) : [])];
  });
}

function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" or ");
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum && schema.type === "string") return schema.enum.map((v) => `\`${String(v)}\``).join(" \\| ");
  if (schema.format === "uuid") return "string (UUID)";
  if (schema.contentEncoding === "base64") return "string (base64)";
  return Array.isArray(schema.type) ? schema.type.join(" or ") : String(schema.type ?? "any");
}

function boundsOf(schema: JsonSchema): string {
  const parts: string[] = [];
  if (schema.enum && schema.type !== "string") parts.push(`one of ${schema.enum.join(", ")}`);
  else {
    const low = schema.minimum !== undefined && schema.minimum > -SAFE_INTEGER ? schema.minimum : undefined;
    const high = schema.maximum !== undefined && schema.maximum < SAFE_INTEGER ? schema.maximum : undefined;
    if (low !== undefined && high !== undefined) parts.push(`${low} – ${high}`);
    else if (low !== undefined) parts.push(`≥ ${low}`);
    else if (high !== undefined) parts.push(`≤ ${high}`);
  }
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    parts.push(schema.maxLength === undefined ? `at least ${schema.minLength} chars` : `${schema.minLength ?? 0} – ${schema.maxLength} chars`);
  }
  if (schema.pattern && schema.format === undefined) parts.push(`\`${schema.pattern}\``);
  return parts.join("; ");
}

/** The meaning of `path` in `message`: its own note, else the shared note of its name. */
export function fieldNote(message: string, path: string): string | undefined {
  const last = path.split(".").at(-1)!;
  return FIELD_NOTES[`${message}.${path}`] ?? FIELD_NOTES[path] ?? FIELD_NOTES[`${message}.${last}`] ?? FIELD_NOTES[last];
}

function messageSection(option: z.ZodObject, defaults: Record<string, string>): string[] {
  const type = (option.shape.type as z.ZodLiteral<string>).value;
  const json = jsonSchemaOf(option);
  const data = json.properties?.data;
  const rows = fieldRows(data);
  const settings = type === "start";
  const lines = [`### \`${type}\``, "", MESSAGE_NOTES[type] ?? ""];
  if (rows.length === 0) lines.push("", "No fields: `data` may be omitted.");
  else {
    if (!json.required?.includes("data")) lines.push("", "`data` may be omitted.");
    lines.push("", "| field | type | bounds | default | meaning |", "|---|---|---|---|---|");
    for (const row of rows) {
      const shownType = row.required ? row.type : `${row.type}, optional`;
      const fallback = settings ? (defaults[row.path] ?? "") : "";
      lines.push(`| \`${row.path}\` | ${shownType} | ${row.bounds} | ${fallback} | ${fieldNote(type, row.path) ?? ""} |`);
    }
  }
  lines.push("", "```json", JSON.stringify(EXAMPLES[type]), "```", "");
  return lines;
}

export function renderProtocolDoc(): string {
  const defaults = settingDefaults();
  const lines = [
    "# Morgan's WebSocket protocol",
    "",
    "<!-- Generated from src/protocol/messages.ts by `bun run gen:docs`; a test fails when it is stale. -->",
    "",
    "Endpoints: `/ws/stream`, `/ws/stream/:user_id` and `/ws/audio` (the legacy path), one protocol.",
    "Every message is JSON `{type, data}`. Every server message also carries `seq`: 1, 2, 3… per session",
    "(an error before any session exists carries 0). Send the last `seq` you received in `resume`.",
    "When a session moves to another server instance (a resume after a crash, a drain or a takeover), the",
    "numbering continues above anything the old instance could have sent: the resumed `session_started` may",
    "jump ahead. Numbers never repeat, so a client may drop any message whose `seq` it has already seen.",
    "Client audio may also arrive as binary frames: 16-bit little-endian mono PCM at the session's input rate.",
    "",
    "The same schemas as JSON: [asyncapi.json](asyncapi.json) (AsyncAPI 3.0). A typed client for browsers and Bun:",
    "[packages/morgan-client](../packages/morgan-client/README.md).",
    "",
    "## Authentication",
    "",
    "Unless Morgan runs with `auth.mode` none (loopback only), the upgrade request carries a credential",
    "([security.md](security.md)): `Authorization: Bearer <key or token>` (servers), the subprotocols",
    "`morgan.v1` and `morgan.token.<token>` (browsers; the server selects `morgan.v1`), or `?token=<token>`",
    "(URLs reach proxies' logs; prefer the others). A refused upgrade is an HTTP answer, not a socket: 401",
    "(missing, invalid or expired credential), 403 (`/ws/stream/:user_id` names another user, or the `Origin`",
    "is not allowed). The session's user is the credential's; `start.user_id` naming another user is",
    "refused with `forbidden` (an admin credential may name any user), and resuming another user's",
    "session fails with `resume_failed`, as for an unknown session.",
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
    "## Client → server",
    "",
    ...ClientMessage.options.flatMap((option) => messageSection(option, defaults)),
    "## Server → client",
    "",
    "Every server message has `seq` (integer ≥ 0) beside `type` and `data`.",
    "",
    ...ServerMessage.options.flatMap((option) => messageSection(option, defaults)),
  ];
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n").trim()}\n`;
}
