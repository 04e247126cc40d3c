/**
 * A reader for protobuf text format, enough for Triton's config.pbtxt: `key: value`,
 * `key { ... }`, `key [ a, b ]`, `key: [ {...}, {...} ]`, comments, repeated keys. Values stay as
 * written (numbers, strings, enum identifiers); repeated fields become arrays.
 */
export type TextValue = string | number | boolean | TextMessage | TextValue[];
export interface TextMessage {
  [field: string]: TextValue;
}

type Token = { kind: "punct"; value: string } | { kind: "string"; value: string } | { kind: "word"; value: string };

export class PbtxtError extends Error {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{}[\]:,;<>])|([^\s{}[\]:,;<>"'#]+)/y;
  let position = 0;
  while (position < source.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (!match) throw new PbtxtError(`unexpected character at offset ${position}: ${JSON.stringify(source.slice(position, position + 20))}`);
    position = pattern.lastIndex;
    const quoted = match[1] ?? match[2];
    if (quoted !== undefined) tokens.push({ kind: "string", value: JSON.parse(`"${quoted}"`) });
    else if (match[3] !== undefined) tokens.push({ kind: "punct", value: match[3] });
    else if (match[4] !== undefined) tokens.push({ kind: "word", value: match[4] });
  }
  return tokens;
}

export function parsePbtxt(source: string): TextMessage {
  const tokens = tokenize(source);
  let position = 0;
  const peek = () => tokens[position];
  const take = () => {
    const token = tokens[position++];
    if (!token) throw new PbtxtError("unexpected end of input");
    return token;
  };
  const expectPunct = (value: string) => {
    const token = take();
    if (token.kind !== "punct" || token.value !== value) throw new PbtxtError(`expected "${value}", got "${token.value}"`);
  };
  const isPunct = (value: string) => peek()?.kind === "punct" && peek()?.value === value;

  const scalar = (): TextValue => {
    const token = take();
    if (token.kind === "string") return token.value;
    if (token.kind === "punct") throw new PbtxtError(`expected a value, got "${token.value}"`);
    if (token.value === "true" || token.value === "false") return token.value === "true";
    const number = Number(token.value);
    return Number.isNaN(number) ? token.value : number;
  };
  const value = (): TextValue => {
    if (isPunct("{") || isPunct("<")) return message(take().value === "{" ? "}" : ">");
    if (isPunct("[")) {
      take();
      const items: TextValue[] = [];
      while (!isPunct("]")) {
        items.push(value());
        if (isPunct(",")) take();
      }
      take();
      return items;
    }
    return scalar();
  };
  const message = (close?: string): TextMessage => {
    const fields: TextMessage = {};
    for (;;) {
      if (close ? isPunct(close) : position >= tokens.length) break;
      const key = take();
      if (key.kind !== "word") throw new PbtxtError(`expected a field name, got "${key.value}"`);
      if (isPunct(":")) take();
      else if (!isPunct("{") && !isPunct("<") && !isPunct("[")) throw new PbtxtError(`expected ":" after ${key.value}`);
      const parsed = value();
      const existing = fields[key.value];
      if (existing === undefined) fields[key.value] = parsed;
      else fields[key.value] = [...(Array.isArray(existing) ? existing : [existing]), ...(Array.isArray(parsed) ? parsed : [parsed])];
      if (isPunct(",") || isPunct(";")) take();
    }
    if (close) expectPunct(close);
    return fields;
  };
  return message();
}

/** A repeated field as an array, whether written once, several times or as a list. */
export function repeated(field: TextValue | undefined): TextValue[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field : [field];
}
