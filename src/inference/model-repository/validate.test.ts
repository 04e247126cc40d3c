import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateRepository } from "./validate";

const REPOSITORIES = join(import.meta.dir, "../../../triton-models");

describe("validateRepository", () => {
  test("the CPU and the GPU repositories both keep Morgan's tensor contract", () => {
    expect(validateRepository(join(REPOSITORIES, "cpu"))).toEqual([]);
    expect(validateRepository(join(REPOSITORIES, "gpu"))).toEqual([]);
  });

  test("names each broken promise of a config", () => {
    const dir = mkdtempSync(join(tmpdir(), "morgan-repo-"));
    try {
      cpSync(join(REPOSITORIES, "cpu"), dir, { recursive: true, dereference: true });
      const stt = join(dir, "stt/config.pbtxt");
      writeFileSync(
        stt,
        readFileSync(stt, "utf8")
          .replace(/(name: "WAV",?\s*data_type: )TYPE_FP32/, "$1TYPE_INT16")
          .replace("model_transaction_policy { decoupled: true }", "")
          .replace(/\{ name: "CORRID"[^\n]*\n/, "\n"),
      );
      rmSync(join(dir, "tts"), { recursive: true });
      const turn = join(dir, "turn/config.pbtxt");
      writeFileSync(turn, readFileSync(turn, "utf8").replace(/(name: "TRANSCRIPT", data_type: )TYPE_STRING/, "$1TYPE_FP32"));
      const problems = validateRepository(dir);
      expect(problems).toContain("stt: input WAV is TYPE_INT16, expected TYPE_FP32");
      expect(problems).toContain("stt: must be decoupled (model_transaction_policy)");
      expect(problems).toContain("stt: sequence_batching lacks a CONTROL_SEQUENCE_CORRID control input");
      expect(problems.some((p) => p.startsWith("tts (tts): no "))).toBe(true);
      // The text check's input is optional (a repository may leave it out), but if declared it must be a string.
      expect(problems).toContain("turn: input TRANSCRIPT is TYPE_FP32, expected TYPE_STRING");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
