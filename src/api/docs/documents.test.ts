import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import specs from "@asyncapi/specs";
import Ajv from "ajv";
import packageJson from "../../../package.json" with { type: "json" };
import { ClientMessage, ServerMessage } from "../../protocol/messages";
import { Message } from "../../protocol/rest";
import { MESSAGE_ROLES } from "../../storage/schema.ts";
import { asyncApiDocument } from "./asyncapi.ts";
import { EXAMPLES, MESSAGE_NOTES } from "./catalog.ts";
import { generatedDocuments } from "./documents.ts";
import { jsonSchemaOf } from "./json-schema.ts";
import { openApiDocument } from "./openapi.ts";
import { fieldNote, fieldRows } from "./protocol-doc.ts";

const allMessages = [...ClientMessage.options, ...ServerMessage.options];
const typeOf = (option: (typeof allMessages)[number]) => option.shape.type.value as string;

test("docs/protocol.md, docs/asyncapi.json and docs/openapi.json are up to date (bun run gen:docs)", async () => {
  for (const [path, text] of Object.entries(generatedDocuments())) {
    expect({ path, text: await Bun.file(path).text() }).toEqual({ path, text });
  }
});

describe("the WebSocket documents", () => {
  test("every message has a note and an example that the protocol accepts", () => {
    for (const option of allMessages) {
      const type = typeOf(option);
      expect({ type, note: typeof MESSAGE_NOTES[type] }).toEqual({ type, note: "string" });
      const parsed = option.safeParse(EXAMPLES[type]);
      expect({ type, problems: parsed.error?.issues ?? [] }).toEqual({ type, problems: [] });
    }
  });

  test("every field of every message has a meaning", () => {
    const missing = allMessages.flatMap((option) =>
      fieldRows(jsonSchemaOf(option).properties?.data)
        .filter((row) => fieldNote(typeOf(option), row.path) === undefined)
        .map((row) => `${typeOf(option)}.${row.path}`),
    );
    expect(missing).toEqual([]);
  });

  test("the AsyncAPI document is valid AsyncAPI 3.0 and its examples match their payload schemas", () => {
    const document = asyncApiDocument(packageJson.version);
    // The AsyncAPI schema bundles the draft-07 meta-schema itself, so Ajv must not add its own copy.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, meta: false, validateSchema: false });
    const validate = ajv.compile(specs.schemas["3.0.0"] as object);
    expect(validate(document) ? [] : validate.errors).toEqual([]);
    const components = document.components as { messages: Record<string, { examples: { payload: unknown }[] }>; schemas: Record<string, object> };
    for (const [name, message] of Object.entries(components.messages)) {
      const payload = new Ajv({ strict: false }).compile(components.schemas[name]!);
      expect({ name, valid: payload(message.examples[0]!.payload) }).toEqual({ name, valid: true });
    }
  });
});

test("the OpenAPI document is valid OpenAPI 3.1", async () => {
  const result = await new Validator().validate(openApiDocument(packageJson.version));
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

test("the REST schema's message roles are storage's", () => {
  expect([...Message.shape.role.options].sort()).toEqual([...MESSAGE_ROLES].sort());
});
