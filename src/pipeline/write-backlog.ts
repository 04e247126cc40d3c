/**
 * Counts a session's conversation writes still under way, so a session that produces turns faster
 * than its messages can be stored is refused more turns (issue 12, defect 5: one session's flood
 * queued 10,000 row writes that every other session then waited behind).
 */
import type { PipelineStore } from "./ports";

export class WriteBacklog {
  private pendingWrites = 0;
  readonly store: PipelineStore;

  constructor(
    inner: PipelineStore,
    readonly limit: number,
  ) {
    const counted = async <R>(write: () => Promise<R>): Promise<R> => {
      this.pendingWrites += 1;
      try {
        return await write();
      } finally {
        this.pendingWrites -= 1;
      }
    };
    this.store = {
      context: (conversationId) => inner.context(conversationId),
      appendMessage: (conversationId, message) => counted(() => inner.appendMessage(conversationId, message)),
      recordTranscription: (sessionRowId, record) => counted(() => inner.recordTranscription(sessionRowId, record)),
      cachedSynthesis: (key) => inner.cachedSynthesis(key),
      storeSynthesis: (key, messageId, audio) => inner.storeSynthesis(key, messageId, audio),
    };
  }

  get pending(): number {
    return this.pendingWrites;
  }

  get full(): boolean {
    return this.pendingWrites >= this.limit;
  }
}
