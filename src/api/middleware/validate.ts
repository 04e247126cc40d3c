/** Parses request input with a zod schema; failures become RequestValidationError (400). */
import { z } from "zod";
import { problemsFromZod, RequestValidationError } from "./errors.ts";

export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input);
  if (!result.success) throw new RequestValidationError(problemsFromZod(result.error));
  return result.data;
}

/** An integer query parameter in [min, max], with one message for every way it can be wrong. */
export function integerParam(min: number, max: number, what = "an integer") {
  const error = `expected ${what} between ${min} and ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}
