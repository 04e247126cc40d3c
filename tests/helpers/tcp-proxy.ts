/**
 * A TCP proxy the test controls, standing in for the network between Morgan and PostgreSQL:
 * `cut()` resets every open connection and stops listening, so new connections are refused
 * (a real socket-level fault: ECONNRESET, then ECONNREFUSED); `restore()` listens on the same port again.
 */
import type { Socket, TCPSocketListener } from "bun";

interface Pair {
  client: Socket<PairData>;
  upstream?: Socket<PairData>;
  pending: Uint8Array[];
}
interface PairData {
  pair?: Pair;
}

export class TcpProxy {
  readonly #pairs = new Set<Pair>();
  #listener: TCPSocketListener<PairData> | null = null;
  #cut = false;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get port(): number {
    if (!this.#port) throw new Error("proxy not started");
    return this.#port;
  }

  #port = 0;

  start(port = 0): this {
    this.#listen(port);
    this.#port = this.#listener!.port;
    return this;
  }

  #listen(port: number): void {
    this.#listener = Bun.listen<PairData>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (client) => this.#accept(client),
        data: (client, data) => {
          const pair = client.data.pair;
          if (!pair) return;
          if (pair.upstream) pair.upstream.write(data);
          else pair.pending.push(new Uint8Array(data));
        },
        close: (client) => this.#drop(client.data.pair),
        error: (client) => this.#drop(client.data.pair),
      },
      data: {},
    });
  }

  cut(): void {
    this.#cut = true;
    this.#listener?.stop(true);
    this.#listener = null;
    for (const pair of [...this.#pairs]) this.#drop(pair);
  }

  restore(): void {
    this.#cut = false;
    if (!this.#listener) this.#listen(this.#port);
  }

  stop(): void {
    this.cut();
  }

  #accept(client: Socket<PairData>): void {
    if (this.#cut) {
      client.end();
      return;
    }
    const pair: Pair = { client, pending: [] };
    client.data = { pair };
    this.#pairs.add(pair);
    void Bun.connect<PairData>({
      hostname: this.targetHost,
      port: this.targetPort,
      data: { pair },
      socket: {
        open: (upstream) => {
          pair.upstream = upstream;
          for (const chunk of pair.pending) upstream.write(chunk);
          pair.pending = [];
        },
        data: (_upstream, data) => {
          pair.client.write(data);
        },
        close: () => this.#drop(pair),
        error: () => this.#drop(pair),
      },
    }).catch(() => this.#drop(pair));
  }

  #drop(pair: Pair | undefined): void {
    if (!pair || !this.#pairs.delete(pair)) return;
    pair.client.terminate();
    pair.upstream?.terminate();
  }
}
