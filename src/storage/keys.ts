/**
 * Every Redis key Morgan writes is built here, so no key string is spelled twice.
 * Ids are URI-encoded so an id containing ":" cannot reach into another key family.
 */
const part = (id: string): string => encodeURIComponent(id);

export const redisKeys = {
  /** Streaming session state (JSON). */
  session: (sessionId: string) => `session:${part(sessionId)}`,
  /** Bounded list of a session's recent outbound events, replayed when a client resumes. */
  sessionReplay: (sessionId: string) => `session:${part(sessionId)}:replay`,
  /** The highest message seq reserved by the session's owner: a successor numbers above it. */
  sessionSeq: (sessionId: string) => `session:${part(sessionId)}:seq`,
  /** The instance that owns the live session (its lease): the id of the owner, with a TTL. */
  sessionOwner: (sessionId: string) => `session:${part(sessionId)}:owner`,
  /** The reply being delivered (JSON), so a successor can store it as interrupted after a crash. */
  sessionReply: (sessionId: string) => `session:${part(sessionId)}:reply`,
  /** A user's conversation context pointer (JSON): the conversation to resume. */
  conversationContext: (userId: string) => `conv:context:${part(userId)}`,
  /** A conversation's record plus its most recent messages (JSON). */
  conversationMessages: (conversationId: string) => `conv:messages:${part(conversationId)}`,
  /** Bounded list of raw audio chunks (binary). */
  audioBuffer: (sessionId: string) => `audio:buffer:${part(sessionId)}`,
} as const;

export type KeyFamily = keyof typeof redisKeys;
