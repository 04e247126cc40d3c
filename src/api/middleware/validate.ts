/** Parses request input with a zod schema; failures become RequestValidationError (400). */
import type { z } from "zod";
import { problemsFromZod, RequestValidationError } from "./errors.ts";

export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input);
  if (!result.success) throw new RequestValidationError(problemsFromZod(result.error));
  return result.data;
}
