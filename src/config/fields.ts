/**
 * Field builders shared by every config section.
 * Environment variables arrive as strings, so numeric and boolean fields accept their string
 * spellings too; everything else is strict so a typo fails start-up instead of being ignored.
 */
import { z } from "zod";

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

function numberFromString(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (trimmed === "" || !/^-?\d+(\.\d+)?$/.test(trimmed)) return value;
  return Number(trimmed);
}

function booleanFromString(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

/** An integer in [min, max]; accepts "42" from the environment. */
export function intField(min: number, max: number, fallback: number) {
  return z
    .preprocess(
      numberFromString,
      z
        .number({ error: `expected an integer between ${min} and ${max}` })
        .int({ error: `expected an integer between ${min} and ${max}` })
        .min(min, { error: `expected an integer between ${min} and ${max}` })
        .max(max, { error: `expected an integer between ${min} and ${max}` }),
    )
    .default(fallback);
}

/** A number in [min, max]; accepts "0.5" from the environment. */
export function numberField(min: number, max: number, fallback: number) {
  const message = `expected a number between ${min} and ${max}`;
  return z
    .preprocess(numberFromString, z.number({ error: message }).min(min, { error: message }).max(max, { error: message }))
    .default(fallback);
}

/** A boolean; accepts true/false, 1/0, yes/no, on/off. */
export function boolField(fallback: boolean) {
  return z
    .preprocess(booleanFromString, z.boolean({ error: "expected true or false" }))
    .default(fallback);
}

/** A non-empty string. */
export function textField(fallback: string) {
  return z.string({ error: "expected a non-empty string" }).min(1, { error: "expected a non-empty string" }).default(fallback);
}

/** An optional non-empty string (an empty environment variable counts as unset). */
export function optionalText() {
  return z.string({ error: "expected a string" }).min(1, { error: "expected a non-empty string" }).optional();
}

/** A URL whose scheme is one of `schemes`. */
export function optionalUrl(schemes: readonly string[]) {
  const message = `expected a URL starting with ${schemes.map((s) => `${s}://`).join(" or ")}`;
  return z
    .string({ error: message })
    .refine((value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ""));
      } catch {
        return false;
      }
    }, { error: message })
    .optional();
}

/**
 * A list of host:port addresses; the environment spells it comma-separated ("a:26379,b:26379"),
 * YAML as a list. Empty (or unset) = no addresses. A bad entry is named in the one error for the list.
 */
export function hostPortListField() {
  const message = "expected a comma-separated list of host:port (e.g. 10.0.0.1:26379,10.0.0.2:26379)";
  return z
    .preprocess(
      (value) => (typeof value === "string" ? value.split(",").map((part) => part.trim()).filter((part) => part !== "") : value),
      z
        .array(z.string(), { error: message })
        .max(16, { error: "expected at most 16 addresses" })
        .superRefine((addresses, context) => {
          const bad = addresses.filter((address) => !isHostPort(address));
          if (bad.length > 0) context.addIssue({ code: "custom", message: `${message}; not host:port: ${bad.join(", ")}` });
        }),
    )
    .default([]);
}

export function isHostPort(value: string): boolean {
  if (!/^[A-Za-z0-9.\-_]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(value)) return false;
  const port = Number(value.slice(value.lastIndexOf(":") + 1));
  return port >= 1 && port <= 65535;
}

/** Splits "host:port" (or "[v6]:port") as validated by hostPortListField. */
export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(address.slice(colon + 1)) };
}
