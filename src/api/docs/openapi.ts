/**
 * The REST and SSE routes as an OpenAPI 3.1 document, built with zod-openapi from the routes' own
 * request schemas and the response schemas of src/protocol/rest.ts. Served at /openapi.json and kept
 * in docs/openapi.json.
 */
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from "zod-openapi";
import { Conversation, ConversationPage, ErrorBody, GenerateResult, HealthReport, LlmStreamEvents, MessagePage, TranscribeResult, TtsStreamEvents } from "../../protocol/rest";
import { ClientTokenBody, ClientTokenResult } from "../routes/auth.ts";
import { idParam, listQuery, messagesQuery } from "../routes/conversations.ts";
import { GenerateBody, SpeakBody } from "../routes/inference.ts";

const json = (schema: z.ZodType) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json(ErrorBody) });
const invalid = error("The request is invalid; `problems` names each field.");

/** SSE: one `event:` per named schema, each with a JSON `data:` line. */
function sse(events: Record<string, z.ZodType>, description: string) {
  const names = Object.keys(events).join(", ");
  return {
    description: `${description} Server-Sent Events: ${names}; each event's data is JSON (schemas in \`x-sse-events\`).`,
    content: { "text/event-stream": { schema: z.string().meta({ "x-sse-events": Object.fromEntries(Object.entries(events).map(([k, v]) => [k, z.toJSONSchema(v)])) }) } },
  };
}

const denied = {
  "401": error("No credential, or an invalid or expired one (docs/security.md)."),
  "403": error("The credential may not do this: another user's data, a missing scope, or a refused Origin."),
};

/** Every route needs a credential (the document's `security`) unless it says `security: []`. */
function op(summary: string, responses: ZodOpenApiResponsesObject, extra: Partial<ZodOpenApiOperationObject> = {}): ZodOpenApiOperationObject {
  const isPublic = Array.isArray(extra.security) && extra.security.length === 0;
  return { summary, responses: isPublic ? responses : { ...responses, ...denied }, ...extra };
}
const PUBLIC = { security: [] };

const generate = op("Generate a reply (whole)", { "200": { description: "The generated text.", content: json(GenerateResult) }, "400": invalid, "502": error("The model failed.") }, {
  requestBody: { content: json(GenerateBody) },
  tags: ["LLM"],
});
const streamText = op("Generate a reply (streamed)", { "200": sse(LlmStreamEvents, "Text deltas, then `done`."), "400": invalid }, {
  requestBody: { content: json(GenerateBody) },
  tags: ["LLM"],
});
const speakStream = op("Speak text (streamed PCM chunks)", { "200": sse(TtsStreamEvents, "Audio chunks, then `done`."), "400": invalid }, {
  requestBody: { content: json(SpeakBody) },
  tags: ["TTS"],
});

export function openApiDocument(version: string): Record<string, unknown> {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Morgan HTTP API",
      version,
      description:
        "Conversations, health and direct model routes. The WebSocket voice protocol is described by /asyncapi.json and docs/protocol.md. Credentials: Authorization: Bearer <API key or token>, unless Morgan runs with auth.mode none on loopback (docs/security.md).",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key, a JWT from the configured identity provider, or a client token from POST /v1/auth/client-token." } } },
    security: [{ bearer: [] }],
    servers: [{ url: "http://localhost:8000" }],
    paths: {
      "/health": { get: op("Dependency report", { "200": { description: "Status of PostgreSQL, Redis and Triton.", content: json(HealthReport) } }, { tags: ["Health"], ...PUBLIC }) },
      "/live": { get: op("Process is up", { "200": { description: "Alive.", content: json(z.object({ status: z.literal("alive") })) } }, { tags: ["Health"], ...PUBLIC }) },
      "/ready": {
        get: op(
          "Ready for traffic",
          {
            "200": { description: "Ready.", content: json(z.object({ status: z.literal("ready") })) },
            "503": { description: "Starting or stopping.", content: json(z.object({ status: z.enum(["starting", "stopping"]), reason: z.string().optional() })) },
          },
          { tags: ["Health"], ...PUBLIC },
        ),
      },
      "/v1/auth/client-token": {
        post: op(
          "Mint a short-lived client token for a browser",
          {
            "201": { description: "The token (HS256 JWT) and when it expires.", content: json(ClientTokenResult) },
            "400": invalid,
          },
          { requestBody: { content: json(ClientTokenBody) }, tags: ["Auth"], description: "Needs an API key or identity-provider token (not a client token); minting for another user needs the admin scope. Served when auth.clientTokens.secret is set." },
        ),
      },
      "/v1/conversations": {
        get: op("List a user's conversations (the caller's; an admin names one with user_id)", { "200": { description: "A page of conversations, newest first.", content: json(ConversationPage) }, "400": invalid }, {
          requestParams: { query: listQuery },
          tags: ["Conversations"],
        }),
      },
      "/v1/conversations/{id}": {
        get: op("Read a conversation", { "200": { description: "The conversation.", content: json(Conversation) }, "400": invalid, "404": error("No such conversation, or another user's.") }, {
          requestParams: { path: idParam },
          tags: ["Conversations"],
        }),
        delete: op("Delete a conversation and its messages", { "204": { description: "Deleted." }, "400": invalid, "404": error("No such conversation, or another user's.") }, {
          requestParams: { path: idParam },
          tags: ["Conversations"],
        }),
      },
      "/v1/conversations/{id}/messages": {
        get: op("List a conversation's messages", { "200": { description: "A page of messages, oldest first.", content: json(MessagePage) }, "400": invalid, "404": error("No such conversation.") }, {
          requestParams: { path: idParam, query: messagesQuery },
          tags: ["Conversations"],
        }),
      },
      "/v1/llm/generate": { post: generate },
      "/v1/llm/stream": { post: streamText },
      "/v1/tts/generate": {
        post: op("Speak text (WAV)", { "200": { description: "16-bit mono WAV.", content: { "audio/wav": { schema: z.string().meta({ format: "binary" }) } } }, "400": invalid, "502": error("The model failed.") }, {
          requestBody: { content: json(SpeakBody) },
          tags: ["TTS"],
        }),
      },
      "/v1/tts/generate/stream": { post: speakStream },
      "/v1/stt/transcribe": {
        post: op("Transcribe a WAV file", { "200": { description: "The transcript.", content: json(TranscribeResult) }, "400": invalid, "413": error("Larger than server.bodyLimitBytes."), "502": error("The model failed.") }, {
          requestBody: {
            content: {
              "audio/wav": { schema: z.string().meta({ format: "binary" }) },
              "multipart/form-data": { schema: z.object({ file: z.string().meta({ format: "binary" }) }) },
            },
          },
          tags: ["STT"],
        }),
      },
      "/generate": { post: { ...generate, summary: "Alias of /v1/llm/generate (the seed's path)" } },
      "/stream": { post: { ...streamText, summary: "Alias of /v1/llm/stream (the seed's path)" } },
      "/generate/stream": { post: { ...speakStream, summary: "Alias of /v1/tts/generate/stream (the seed's path)" } },
    },
  }) as unknown as Record<string, unknown>;
}
