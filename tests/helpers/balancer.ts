/**
 * A TCP load balancer for tests, standing in for HAProxy in front of several Morgan instances: each
 * new connection goes to the first backend, in order, that accepts it (a refused one is skipped, as
 * HAProxy's `option redispatch` does). Clients reconnect through the same URL and land on a live
 * instance. Bytes are relayed unchanged, so WebSocket upgrades and close frames pass through.
 */
import { type RelayPair, TcpRelay } from "./tcp-relay.ts";

export class Balancer extends TcpRelay {
  constructor(private backends: number[]) {
    super("end");
  }

  get port(): number {
    return this.listenerPort;
  }

  /** Replaces the backend list (a restarted instance on a new port). */
  setBackends(ports: number[]): void {
    this.backends = ports;
  }

  start(): this {
    this.listen(0);
    return this;
  }

  stop(): void {
    this.close();
  }

  protected async accept(pair: RelayPair): Promise<void> {
    for (const port of this.backends) {
      // A refused backend is gone or draining: try the next one.
      if (await this.connectUpstream(pair, "127.0.0.1", port)) return;
    }
    this.drop(pair);
  }
}
