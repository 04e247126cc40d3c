/**
 * A TCP load balancer for tests, standing in for HAProxy in front of several Morgan instances: each
 * new connection goes to the first backend, in order, that accepts it (a refused one is skipped, as
 * HAProxy's `option redispatch` does). Clients reconnect through the same URL and land on a live
 * instance. Bytes are relayed unchanged, so WebSocket upgrades and close frames pass through.
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

export class Balancer {
  readonly #pairs = new Set<Pair>();
  #listener: TCPSocketListener<PairData> | null = null;

  constructor(private backends: number[]) {}

  get port(): number {
    if (!this.#listener) throw new Error("balancer not started");
    return this.#listener.port;
  }

  /** Replaces the backend list (a restarted instance on a new port). */
  setBackends(ports: number[]): void {
    this.backends = ports;
  }

  start(): this {
    this.#listener = Bun.listen<PairData>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => void this.#accept(client),
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
    return this;
  }

  stop(): void {
    this.#listener?.stop(true);
    this.#listener = null;
    for (const pair of [...this.#pairs]) this.#drop(pair);
  }

  async #accept(client: Socket<PairData>): Promise<void> {
    const pair: Pair = { client, pending: [] };
    client.data = { pair };
    this.#pairs.add(pair);
    for (const port of this.backends) {
      if (!this.#pairs.has(pair)) return;
      try {
        pair.upstream = await Bun.connect<PairData>({
          hostname: "127.0.0.1",
          port,
          data: { pair },
          socket: {
            data: (_upstream, data) => void pair.client.write(data),
            close: () => this.#drop(pair),
            error: () => this.#drop(pair),
          },
        });
        for (const chunk of pair.pending) pair.upstream.write(chunk);
        pair.pending = [];
        return;
      } catch {
        // refused: this instance is gone or draining; try the next one
      }
    }
    this.#drop(pair);
  }

  #drop(pair: Pair | undefined): void {
    if (!pair || !this.#pairs.delete(pair)) return;
    pair.client.end();
    pair.upstream?.end();
  }
}
