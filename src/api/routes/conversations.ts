/**
 * Read and delete conversations over REST; writes come from the voice pipeline, not from here.
 * Every route is scoped to the caller's user: another user's conversation answers 404, exactly like a
 * missing one. An admin acts for a user with `?user_id=` on the list, and may open any conversation.
 */
import type { Context } from "hono";
import { z } from "zod";
import { forbidden } from "../auth/errors.ts";
import { principalOf } from "../auth/middleware.ts";
import { actingUser, hasScope, type Principal } from "../auth/principal.ts";
import type { AppHono, RouteContext } from "../context.ts";
import { integerParam, parseInput } from "../middleware/validate.ts";

const pageQuery = {
  limit: integerParam(1, 100).optional(),
  cursor: z.string().min(1, { error: "expected the nextCursor of a previous page" }).max(512).optional(),
};

export const listQuery = z.strictObject({
  /** Defaults to the caller's user; another user's needs the admin scope. */
  user_id: z.string().trim().min(1, { error: "must not be empty" }).max(200, { error: "at most 200 characters" }).optional(),
  ...pageQuery,
});
export const messagesQuery = z.strictObject(pageQuery);
export const idParam = z.strictObject({ id: z.uuid({ error: "expected a UUID" }) });

export function registerConversationRoutes(app: AppHono, { services }: RouteContext): void {
  const conversations = services.storage.conversations;

  /** The conversation if this caller may touch it; otherwise undefined, as if it did not exist. */
  const visible = async (principal: Principal, id: string) => {
    if (principal.conversationId !== undefined && principal.conversationId !== id) return undefined;
    const conversation = await conversations.getConversation(id);
    if (!conversation) return undefined;
    return conversation.userId === principal.userId || hasScope(principal, "admin") ? conversation : undefined;
  };
  const notFound = (c: Context, id: string) => c.json({ error: "not_found", message: `conversation ${id} not found` }, 404);

  app.get("/v1/conversations", async (c) => {
    const principal = principalOf(c);
    const query = parseInput(listQuery, c.req.query());
    if (principal.conversationId !== undefined) throw forbidden("this token is bound to one conversation: read it with GET /v1/conversations/{id}");
    const userId = actingUser(principal, query.user_id);
    if (!userId) throw forbidden(`you may list only your own conversations (user ${principal.userId}); other users' need the admin scope`);
    return c.json(await conversations.listConversations(userId, { limit: query.limit, cursor: query.cursor }));
  });

  app.get("/v1/conversations/:id", async (c) => {
    const { id } = parseInput(idParam, c.req.param());
    parseInput(z.strictObject({}), c.req.query());
    const conversation = await visible(principalOf(c), id);
    return conversation ? c.json(conversation) : notFound(c, id);
  });

  app.get("/v1/conversations/:id/messages", async (c) => {
    const { id } = parseInput(idParam, c.req.param());
    const query = parseInput(messagesQuery, c.req.query());
    if (!(await visible(principalOf(c), id))) return notFound(c, id);
    return c.json(await conversations.listMessages(id, { limit: query.limit, cursor: query.cursor }));
  });

  app.delete("/v1/conversations/:id", async (c) => {
    const { id } = parseInput(idParam, c.req.param());
    if (!(await visible(principalOf(c), id))) return notFound(c, id);
    await conversations.deleteConversation(id);
    return c.body(null, 204);
  });
}
