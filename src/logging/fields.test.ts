/**
 * One naming scheme for log fields: every field a logger call in src/ writes is snake_case
 * (session_id, request_id, turn_id, pending_writes), read from the source with TypeScript's parser.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const SRC = join(import.meta.dir, "..");
const LOG_METHODS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "child"]);
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function logFields(file: string): { field: string; where: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: { field: string; where: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && LOG_METHODS.has(node.expression.name.text)) {
      const receiver = node.expression.expression.getText(source);
      const [first] = node.arguments;
      if (/log/i.test(receiver) && first && ts.isObjectLiteralExpression(first)) {
        for (const property of first.properties) {
          if (!property.name) continue;
          const { line } = source.getLineAndCharacterOfPosition(property.getStart(source));
          found.push({ field: property.name.getText(source), where: `${relative(SRC, file)}:${line + 1}` });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test("every log field written in src/ is snake_case", () => {
  const files = [...new Bun.Glob("**/*.ts").scanSync(SRC)].filter((f) => !f.endsWith(".test.ts")).map((f) => join(SRC, f));
  const fields = files.flatMap(logFields);
  expect(fields.length).toBeGreaterThan(30);
  expect(fields.map((f) => f.field)).toContain("session_id");
  const offenders = fields.filter((f) => !SNAKE_CASE.test(f.field)).map((f) => `${f.where} ${f.field}`);
  expect(offenders).toEqual([]);
});
