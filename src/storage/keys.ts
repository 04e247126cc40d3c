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
  /** A user's conversation context pointer (JSON): the conversation to resume. */
  conversationContext: (userId: string) => `conv:context:${part(userId)}`,
  /** A conversation's record plus its most recent messages (JSON). */
  conversationMessages: (conversationId: string) => `conv:messages:${part(conversationId)}`,
  /** Bounded list of raw audio chunks (binary). */
  audioBuffer: (sessionId: string) => `audio:buffer:${part(sessionId)}`,
} as const;

export type KeyFamily = keyof typeof redisKeys;
