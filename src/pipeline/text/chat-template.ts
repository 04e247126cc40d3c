/**
 * Chat templates: how an instruct model expects a conversation to be written, and the strings that
 * end its turn. Triton's vLLM backend takes raw text (it applies no template), and so does Morgan's CPU
 * llama.cpp model, so the prompt is formatted here, for the template the configuration names.
 *
 * Neither template writes a BOS token: vLLM's tokenizer and llama.cpp add it themselves when the
 * model wants one. Message contents are stripped of the template's control markers, so that nothing a
 * user says or types can open a new role (a prompt injection through special tokens).
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatTemplate {
  readonly name: ChatTemplateName;
  /** The conversation, ending with the opening of the assistant's reply. */
  format(messages: readonly ChatMessage[]): string;
  /** Strings that end the assistant's turn (the model's end-of-turn marker, if it is not eaten as EOS). */
  readonly stop: readonly string[];
}

export const CHAT_TEMPLATE_NAMES = ["chatml", "llama3"] as const;
export type ChatTemplateName = (typeof CHAT_TEMPLATE_NAMES)[number];

interface TemplateSpec {
  name: ChatTemplateName;
  /** Control strings removed from message contents. */
  markers: readonly string[];
  turn: (role: ChatMessage["role"], content: string) => string;
  /** What opens the assistant's reply, for the model to continue. */
  replyOpening: string;
  stop: readonly string[];
}

function template(spec: TemplateSpec): ChatTemplate {
  const clean = (content: string) => spec.markers.reduce((text, marker) => text.split(marker).join(""), content).trim();
  return {
    name: spec.name,
    stop: spec.stop,
    format: (messages) => messages.map((m) => spec.turn(m.role, clean(m.content))).join("") + spec.replyOpening,
  };
}

/** ChatML: Qwen2.5, SmolLM2 and many others. */
const chatml = template({
  name: "chatml",
  markers: ["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
  turn: (role, content) => `<|im_start|>${role}\n${content}<|im_end|>\n`,
  replyOpening: "<|im_start|>assistant\n",
  stop: ["<|im_end|>", "<|im_start|>"],
});

/** Llama 3 (3.0 to 3.3) instruct models. */
const llama3 = template({
  name: "llama3",
  markers: ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|end_of_text|>"],
  turn: (role, content) => `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`,
  replyOpening: "<|start_header_id|>assistant<|end_header_id|>\n\n",
  stop: ["<|eot_id|>", "<|start_header_id|>"],
});

const TEMPLATES: Record<ChatTemplateName, ChatTemplate> = { chatml, llama3 };

export function chatTemplate(name: ChatTemplateName): ChatTemplate {
  return TEMPLATES[name];
}
