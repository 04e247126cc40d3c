import { expect, test } from "bun:test";
import { redisKeys } from "./keys.ts";

test("keys follow the design notes and ids cannot reach into another family", () => {
  expect(redisKeys.session("abc")).toBe("session:abc");
  expect(redisKeys.conversationContext("u1")).toBe("conv:context:u1");
  expect(redisKeys.conversationMessages("c1")).toBe("conv:messages:c1");
  expect(redisKeys.audioBuffer("abc")).toBe("audio:buffer:abc");
  expect(redisKeys.session("x:replay")).not.toBe(redisKeys.sessionReplay("x"));
});
