/**
 * The byte relay under the tests' TCP stand-ins (the PostgreSQL network proxy and the HAProxy-like
 * balancer): it listens, pairs each client with an upstream socket chosen by the subclass, buffers the
 * client's bytes until that upstream is open, and drops both sides together.
 */
import type { Socket, TCPSocketListener } from "bun";

export interface RelayPair {
  client: Socket<RelayData>;
  upstream?: Socket<RelayData>;
  pending: Uint8Array[];
}
export interface RelayData {
  pair?: RelayPair;
}

export abstract class TcpRelay {
  readonly #pairs = new Set<RelayPair>();
  #listener: TCPSocketListener<RelayData> | null = null;

  /** How a dropped pair's sockets close: `end` (FIN, an orderly close) or `terminate` (RST, a network fault). */
  constructor(private readonly closeWith: "end" | "terminate") {}

  get listening(): boolean {
    return this.#listener !== null;
  }

  protected get listenerPort(): number {
    if (!this.#listener) throw new Error("not listening");
    return this.#listener.port;
  }

  /** Picks and opens the upstream of a new pair (with `connectUpstream`), or drops the pair. */
  protected abstract accept(pair: RelayPair): void | Promise<void>;

  protected listen(port: number): void {
    this.#listener = Bun.listen<RelayData>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (client) => {
          const pair: RelayPair = { client, pending: [] };
          client.data = { pair };
          this.#pairs.add(pair);
          void this.accept(pair);
        },
        data: (client, data) => {
          const pair = client.data.pair;
          if (!pair) return;
          if (pair.upstream) pair.upstream.write(data);
          else pair.pending.push(new Uint8Array(data));
        },
        close: (client) => this.drop(client.data.pair),
        error: (client) => this.drop(client.data.pair),
      },
      data: {},
    });
  }

  /** Stops listening and drops every open pair. */
  protected close(): void {
    this.#listener?.stop(true);
    this.#listener = null;
    for (const pair of [...this.#pairs]) this.drop(pair);
  }

  /** Connects the pair to host:port and flushes what the client sent meanwhile; false if refused or the pair is gone. */
  protected async connectUpstream(pair: RelayPair, hostname: string, port: number): Promise<boolean> {
    if (!this.#pairs.has(pair)) return false;
    try {
      pair.upstream = await Bun.connect<RelayData>({
        hostname,
        port,
        data: { pair },
        socket: {
          data: (_upstream, data) => void pair.client.write(data),
          close: () => this.drop(pair),
          error: () => this.drop(pair),
        },
      });
    } catch {
      return false;
    }
    for (const chunk of pair.pending) pair.upstream.write(chunk);
    pair.pending = [];
    return true;
  }

  protected drop(pair: RelayPair | undefined): void {
    if (!pair || !this.#pairs.delete(pair)) return;
    pair.client[this.closeWith]();
    pair.upstream?.[this.closeWith]();
  }
}
