import { expect, test } from "bun:test";
import { publicReason } from "./public-reason";

test("a client learns the kind of failure, never addresses or driver text", () => {
  const cases: [unknown, RegExp][] = [
    [new Error("14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:8111"), /inference server is unavailable/],
    [Object.assign(new Error("deadline"), { code: "DEADLINE_EXCEEDED" }), /did not answer in time/],
    [new Error("8 RESOURCE_EXHAUSTED: queue full at tritonserver:8001"), /overloaded/],
    [new Error("Python model 'llm_0_0' raised at /opt/models/llm/1/model.py:42"), /failed to answer/],
    ["a string", /failed to answer/],
  ];
  for (const [error, kind] of cases) {
    const reason = publicReason(error);
    expect(reason).toMatch(kind);
    expect(reason).not.toMatch(/127\.0\.0\.1|8111|ECONNREFUSED|tritonserver|model\.py|\/opt/);
  }
});
