/** The conversation history panel, read from Morgan's REST API (GET /v1/conversations…). */
import { ConversationPage, MessagePage } from "../src/protocol/rest";

export type Fetcher = (path: string) => Promise<Response>;

export class HistoryPanel {
  constructor(
    private readonly select: HTMLSelectElement,
    private readonly list: HTMLOListElement,
    private readonly fetcher: Fetcher,
  ) {
    select.addEventListener("change", () => void this.showMessages(select.value));
  }

  /**
   * Lists the user's conversations (newest first) and shows the messages of `current`. Without
   * `userId` (a token names the user) Morgan lists the token's own; a token bound to one
   * conversation may not list (403), and then only `current` is shown.
   */
  async refresh(userId: string | undefined, current: string): Promise<void> {
    const ids = new Set([current]);
    const query = userId === undefined ? "limit=20" : `user_id=${encodeURIComponent(userId)}&limit=20`;
    const response = await this.fetcher(`/v1/conversations?${query}`);
    if (response.ok) {
      for (const conversation of ConversationPage.parse(await response.json()).items) ids.add(conversation.id);
    } else if (response.status !== 403) {
      throw new Error(`/v1/conversations: HTTP ${response.status}`);
    }
    this.select.replaceChildren(
      ...[...ids].map((id) => {
        const option = document.createElement("option");
        option.value = id;
        option.textContent = id === current ? `${id.slice(0, 8)}… (this one)` : `${id.slice(0, 8)}…`;
        return option;
      }),
    );
    this.select.value = current;
    await this.showMessages(current);
  }

  async showMessages(conversationId: string): Promise<void> {
    const page = MessagePage.parse(await this.#json(`/v1/conversations/${encodeURIComponent(conversationId)}/messages?limit=100`));
    this.list.replaceChildren(
      ...page.items.map((message) => {
        const item = document.createElement("li");
        item.textContent = `${message.role}: ${message.content}${message.interrupted ? " (interrupted)" : ""}`;
        if (message.interrupted) item.className = "interrupted";
        return item;
      }),
    );
  }

  async #json(path: string): Promise<unknown> {
    const response = await this.fetcher(path);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }
}
