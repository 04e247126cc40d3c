/**
 * The voice and turn-taking settings form, built from the protocol's own schema: each input takes
 * its kind and bounds from the zod field (a number's range, an enum's options, a boolean), so the page
 * offers exactly what the server accepts.
 */
import { z } from "zod";
import type { ConfigSettings } from "../packages/morgan-client/src/index";
import { InterruptionSettings, SessionSettings, TurnDetectionSettings, VadSettings } from "../src/protocol/messages";

/** One setting: its label, its schema, and where its value goes in a `config` message. */
interface Field {
  label: string;
  schema: z.ZodType;
  group?: "vad" | "turn_detection" | "interruption";
}

const FIELDS: Record<string, Field> = {
  voice: { label: "Voice", schema: SessionSettings.shape.voice },
  speed: { label: "Speed", schema: SessionSettings.shape.speed },
  mode: { label: "Turn detection", schema: TurnDetectionSettings.shape.mode, group: "turn_detection" },
  eagerness: { label: "Eagerness", schema: TurnDetectionSettings.shape.eagerness, group: "turn_detection" },
  min_endpointing_ms: { label: "Pause before the turn model is asked (ms)", schema: TurnDetectionSettings.shape.min_endpointing_ms, group: "turn_detection" },
  max_endpointing_ms: { label: "Longest wait for an unfinished turn (ms)", schema: TurnDetectionSettings.shape.max_endpointing_ms, group: "turn_detection" },
  min_silence_ms: { label: "Silence that ends a turn, silence mode (ms)", schema: VadSettings.shape.min_silence_ms, group: "vad" },
  threshold: { label: "Speech threshold", schema: VadSettings.shape.threshold, group: "vad" },
  barge_in_min_speech_ms: { label: "Speech that interrupts Morgan (ms)", schema: VadSettings.shape.barge_in_min_speech_ms, group: "vad" },
  min_words: { label: "Words that interrupt Morgan", schema: InterruptionSettings.shape.min_words, group: "interruption" },
  resume_false_interruption: { label: "Resume after a cough or “mm”", schema: InterruptionSettings.shape.resume_false_interruption, group: "interruption" },
};

function unwrap(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema;
}

function control(schema: z.ZodType): HTMLInputElement | HTMLSelectElement {
  if (schema instanceof z.ZodEnum) {
    const select = document.createElement("select");
    select.append(new Option("server default", ""), ...schema.options.map((option) => new Option(String(option), String(option))));
    return select;
  }
  if (schema instanceof z.ZodBoolean) {
    // A select, not a checkbox: "unset" (the server's default) must stay expressible.
    const select = document.createElement("select");
    select.append(new Option("server default", ""), new Option("yes", "true"), new Option("no", "false"));
    return select;
  }
  const input = document.createElement("input");
  if (schema instanceof z.ZodNumber) {
    input.type = "number";
    if (schema.minValue !== null && Number.isFinite(schema.minValue)) input.min = String(schema.minValue);
    if (schema.maxValue !== null && Number.isFinite(schema.maxValue)) input.max = String(schema.maxValue);
    input.step = schema.isInt ? "1" : "any";
    input.placeholder = `${input.min}–${input.max}`;
  } else {
    input.type = "text";
    input.placeholder = "server default";
  }
  return input;
}

/**
 * Fills `form` with one control per setting; `apply` receives only the settings the user set.
 * Returns a reader of the current values (for `start`).
 */
export function buildSettingsForm(form: HTMLFormElement, apply: (settings: ConfigSettings) => void): () => ConfigSettings {
  for (const [name, field] of Object.entries(FIELDS)) {
    const label = document.createElement("label");
    label.htmlFor = `setting-${name}`;
    label.textContent = field.label;
    const input = control(unwrap(field.schema));
    input.id = `setting-${name}`;
    input.name = name;
    form.append(label, input);
  }
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = "Apply";
  form.append(submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(readSettings(form));
  });
  return () => readSettings(form);
}

function parseValue(schema: z.ZodType, raw: string): unknown {
  if (schema instanceof z.ZodNumber) return Number(raw);
  if (schema instanceof z.ZodBoolean) return raw === "true";
  return raw;
}

function readSettings(form: HTMLFormElement): ConfigSettings {
  const settings: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(FIELDS)) {
    const raw = (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    if (raw === "") continue;
    const value = parseValue(unwrap(field.schema), raw);
    if (field.group) settings[field.group] = { ...(settings[field.group] as object), [name]: value };
    else settings[name] = value;
  }
  return settings as ConfigSettings;
}
