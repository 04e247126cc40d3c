/**
 * The WebSocket protocol as an AsyncAPI 3.0 document, from the same zod schemas as the server
 * (payloads as JSON Schema draft-07, AsyncAPI's default schema format). Served at /asyncapi.json and
 * kept in docs/asyncapi.json.
 */
import type { z } from "zod";
import { ClientMessage, ServerMessage } from "../../protocol/messages";
import { EXAMPLES, MESSAGE_NOTES } from "./catalog.ts";
import { jsonSchemaOf } from "./json-schema.ts";

const CHANNELS = {
  stream: { address: "/ws/stream", description: "A voice session; the user comes from `start.user_id` (or the credential)." },
  userStream: { address: "/ws/stream/{user_id}", description: "The same protocol for the user in the path; `start.user_id` may not differ." },
  audio: { address: "/ws/audio", description: "The legacy path of the same protocol." },
} as const;

const typeOf = (option: z.ZodObject) => (option.shape.type as z.ZodLiteral<string>).value;

export function asyncApiDocument(version: string): Record<string, unknown> {
  const client = ClientMessage.options;
  const server = ServerMessage.options;
  const all = [...client, ...server];
  const messages = Object.fromEntries(
    all.map((option) => {
      const type = typeOf(option);
      return [
        type,
        {
          name: type,
          title: type,
          summary: MESSAGE_NOTES[type],
          contentType: "application/json",
          payload: { $ref: `#/components/schemas/${type}` },
          examples: [{ name: type, payload: EXAMPLES[type] }],
        },
      ];
    }),
  );
  const refs = (options: readonly z.ZodObject[], channel: string) => options.map((o) => ({ $ref: `#/channels/${channel}/messages/${typeOf(o)}` }));
  const channels = Object.fromEntries(
    Object.entries(CHANNELS).map(([id, channel]) => [
      id,
      {
        ...channel,
        messages: Object.fromEntries(all.map((o) => [typeOf(o), { $ref: `#/components/messages/${typeOf(o)}` }])),
        ...(id === "userStream" ? { parameters: { user_id: { description: "1-128 letters, digits or _ . : @ -" } } } : {}),
      },
    ]),
  );
  const operations = Object.fromEntries(
    Object.keys(CHANNELS).flatMap((channel) => [
      [`${channel}.send`, { action: "send", summary: "Client → server messages (text frames; audio also as binary frames).", channel: { $ref: `#/channels/${channel}` }, messages: refs(client, channel) }],
      [`${channel}.receive`, { action: "receive", summary: "Server → client messages, numbered by `seq`.", channel: { $ref: `#/channels/${channel}` }, messages: refs(server, channel) }],
    ]),
  );
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Morgan WebSocket protocol",
      version,
      description: "Real-time voice sessions: microphone audio in, transcripts and the spoken reply out, barge-in and resume. See docs/protocol.md.",
    },
    defaultContentType: "application/json",
    servers: { local: { host: "localhost:8000", protocol: "ws", description: "scripts/serve.sh" } },
    channels,
    operations,
    components: {
      messages,
      schemas: Object.fromEntries(all.map((option) => [typeOf(option), jsonSchemaOf(option, "draft-7")])),
    },
  };
}
