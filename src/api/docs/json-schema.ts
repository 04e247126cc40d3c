/** JSON Schema of a zod schema, as the interface documents embed it (input side: what a sender may send). */
import { z } from "zod";

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  contentEncoding?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  [key: string]: unknown;
};

export function jsonSchemaOf(schema: z.ZodType, target: "draft-7" | "draft-2020-12" = "draft-2020-12"): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input", target, unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  return json;
}
