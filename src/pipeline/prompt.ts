/**
 * Builds the LLM input from the system prompt, the conversation context and the user's words.
 * Triton's vLLM backend takes raw text (no chat template), so the turn format lives here, and the
 * stop sequence keeps the model from writing the user's next line.
 */
import type { ContextMessage } from "./ports";

const ROLE_LABEL: Record<ContextMessage["role"], string> = { system: "System", user: "User", assistant: "Assistant" };

export const STOP_SEQUENCES = ["\nUser:", "\nSystem:"];

export function buildPrompt(systemPrompt: string, context: readonly ContextMessage[], userText: string): string {
  const lines: string[] = [];
  if (systemPrompt.trim() !== "") lines.push(`System: ${systemPrompt.trim()}`);
  for (const message of context) lines.push(`${ROLE_LABEL[message.role]}: ${message.content}`);
  lines.push(`User: ${userText}`, "Assistant:");
  return lines.join("\n");
}
