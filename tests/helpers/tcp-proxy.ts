/**
 * A TCP proxy the test controls, standing in for the network between Morgan and PostgreSQL:
 * `cut()` resets every open connection and stops listening, so new connections are refused
 * (a real socket-level fault: ECONNRESET, then ECONNREFUSED); `restore()` listens on the same port again.
 */
import { type RelayPair, TcpRelay } from "./tcp-relay.ts";

export class TcpProxy extends TcpRelay {
  #port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    super("terminate");
  }

  get port(): number {
    if (!this.#port) throw new Error("proxy not started");
    return this.#port;
  }

  start(port = 0): this {
    this.listen(port);
    this.#port = this.listenerPort;
    return this;
  }

  cut(): void {
    this.close();
  }

  restore(): void {
    if (!this.listening) this.listen(this.#port);
  }

  stop(): void {
    this.cut();
  }

  protected async accept(pair: RelayPair): Promise<void> {
    if (!(await this.connectUpstream(pair, this.targetHost, this.targetPort))) this.drop(pair);
  }
}
