/** Read and delete conversations over REST; writes come from the voice pipeline, not from here. */
import { z } from "zod";
import type { AppHono, RouteContext } from "../context.ts";
import { integerParam, parseInput } from "../middleware/validate.ts";

const pageQuery = {
  limit: integerParam(1, 100).optional(),
  cursor: z.string().min(1, { error: "expected the nextCursor of a previous page" }).max(512).optional(),
};

export const listQuery = z.strictObject({
  user_id: z.string({ error: "required" }).trim().min(1, { error: "must not be empty" }).max(200, { error: "at most 200 characters" }),
  ...pageQuery,
});
export const messagesQuery = z.strictObject(pageQuery);
export const idParam = z.strictObject({ id: z.uuid({ error: "expected a UUID" }) });

export function registerConversationRoutes(app: AppHono, { services }: RouteContext): void {
  const conversations = services.storage.conversations;

  app.get("/v1/conversations", async (c) => {
    const query = parseInput(listQuery, c.req.query());
    return c.json(await conversations.listConversations(query.user_id, { limit: query.limit, cursor: query.cursor }));
  });

  app.get("/v1/conversations/:id", async (c) => {
    const { id } = parseInput(idParam, c.req.param());
    parseInput(z.strictObject({}), c.req.query());
    const conversation = await conversations.getConversation(id);
    if (!conversation) return c.json({ error: "not_found", message: `conversation ${id} not found` }, 404);
    return c.json(conversation);
  });

  app.get("/v1/conversations/:id/messages", async (c) => {
    const { id } = parseInput(idParam, c.req.param());
    const query = parseInput(messagesQuery, c.req.query());
    const conversation = await conversations.getConversation(id);
    if (!conversation) return c.json({ error: "not_found", message: `conversation ${id} not found` }, 404);
    return c.json(await conversations.listMessages(id, { limit: query.limit, cursor: query.cursor }));
  });

  app.delete("/v1/conversations/:id", async (c) => {
    const { id } = parseInput(idParam, c.req.param());
    await conversations.deleteConversation(id);
    return c.body(null, 204);
  });
}
