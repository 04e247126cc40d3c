/**
 * Several Tritons (TRITON_URL="a:8001,b:8001"): one gRPC channel per endpoint, a health probe per
 * endpoint, and each NEW request sent to a healthy endpoint that serves its model with the fewest
 * requests in flight.
 *
 * Why not grpc-js's own load balancing (round_robin over a multi-address target): it picks a
 * subchannel per call knowing neither which models an endpoint has ready (a second Triton may load
 * only some) nor how busy it is, and it hides which endpoint a call went to. Morgan must know that:
 * an STT sequence lives on one server, and when that server fails it is re-opened on ANOTHER one with
 * the utterance's audio; a request that got no response is retried elsewhere. What grpc-js does well
 * it still does, per endpoint: connecting, reconnecting with backoff after a restart, keep-alive
 * (@triton-client's channel settings).
 *
 * Health: every `intervalMs` each endpoint is asked ServerReady and its ready models (RepositoryIndex),
 * each with `timeoutMs`. An endpoint that fails a probe, or whose request failed as unreachable
 * (`reportUnreachable`), gets no new requests until a probe succeeds. One that fails DOWN_AFTER probes
 * in a row is down: the requests in flight on it are aborted (their lease's signal), so a hung server
 * costs its in-flight turns a few seconds instead of the whole request deadline.
 */
import { GrpcStatus, TritonError, type ModelIndexEntry } from "@triton-client";

/** Probes in a row without an answer after which an endpoint's in-flight requests are abandoned. */
export const DOWN_AFTER = 3;

/** What the pool needs of a client: TritonClient has it; unit tests pass fakes. */
export interface ProbedClient {
  serverReady(options: { deadlineMs: number }): Promise<boolean>;
  repositoryIndex(options: { deadlineMs: number; readyOnly: boolean }): Promise<ModelIndexEntry[]>;
  close(): void;
}

export interface EndpointStatus {
  url: string;
  /** Receives new requests. */
  healthy: boolean;
  /** Stopped answering: its in-flight requests were abandoned. */
  down: boolean;
  inFlight: number;
  /** The models it reported ready at the last probe (null before the first answer). */
  readyModels: string[] | null;
}

export interface Endpoint<C> {
  readonly url: string;
  readonly client: C;
}

/** One request's hold on an endpoint: counted in flight until released. */
export interface Lease<C> {
  readonly endpoint: Endpoint<C>;
  /** Aborted when the endpoint is declared down; pass it to the request. */
  readonly signal: AbortSignal;
  release(): void;
}

export interface PoolOptions {
  intervalMs: number;
  timeoutMs: number;
}

export type HealthListener = (url: string, healthy: boolean) => void;

class EndpointState<C extends ProbedClient> implements Endpoint<C> {
  healthy = true;
  failures = 0;
  inFlight = 0;
  readyModels: Set<string> | null = null;
  downController = new AbortController();
  probing = false;

  constructor(
    readonly url: string,
    readonly client: C,
  ) {}

  get down(): boolean {
    return this.failures >= DOWN_AFTER;
  }

  serves(model: string): boolean {
    return this.readyModels === null || this.readyModels.has(model);
  }
}

/** Raised when no endpoint can take a request; the message is fit for a client (`publicMessage`). */
export class NoModelServerError extends TritonError {
  readonly publicMessage: string;

  /** `cause`: the last endpoint's failure, for the server log. */
  constructor(model: string, cause?: unknown) {
    super(GrpcStatus.UNAVAILABLE, `no model server is available for the ${model} model right now; try again shortly`, { model, cause, retryable: true });
    this.publicMessage = this.message;
  }
}

export class TritonPool<C extends ProbedClient> {
  private readonly endpoints: EndpointState<C>[];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Breaks ties between equally loaded endpoints in turn, so idle ones share the work. */
  private turn = 0;
  private readonly listeners: HealthListener[] = [];

  constructor(
    urls: readonly string[],
    connect: (url: string) => C,
    private readonly options: PoolOptions,
  ) {
    if (urls.length === 0) throw new Error("TritonPool needs at least one endpoint");
    this.endpoints = urls.map((url) => new EndpointState(url, connect(url)));
  }

  /** Probes at once and then every intervalMs (the timer does not hold the process open). */
  start(): Promise<void> {
    if (!this.timer) {
      this.timer = setInterval(() => void this.probeAll(), this.options.intervalMs);
      this.timer.unref?.();
    }
    return this.probeAll();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const endpoint of this.endpoints) endpoint.client.close();
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** The first endpoint's client, for what is not per request (model administration). */
  get primary(): C {
    return this.endpoints[0]!.client;
  }

  /** Tells `listener` each endpoint's health now, and then every change (telemetry's gauge). */
  watch(listener: HealthListener): void {
    this.listeners.push(listener);
    for (const endpoint of this.endpoints) listener(endpoint.url, endpoint.healthy);
  }

  /** Whether at least one endpoint takes new requests (Morgan's /ready). */
  anyHealthy(): boolean {
    return this.endpoints.some((e) => e.healthy);
  }

  status(): EndpointStatus[] {
    return this.endpoints.map((e) => ({
      url: e.url,
      healthy: e.healthy,
      down: e.down,
      inFlight: e.inFlight,
      readyModels: e.readyModels && [...e.readyModels].sort(),
    }));
  }

  /**
   * Takes the healthy endpoint serving `model` with the fewest requests in flight, leaving out
   * `avoid` (endpoints this request already failed on). When none is healthy, any endpoint that is
   * not down is tried (a probe may lag a restart by one interval); throws NoModelServerError when
   * every endpoint is down or avoided. `prefer` (where a stateful sequence lives) wins while it is
   * not down: the request fails there and is retried elsewhere rather than losing state needlessly.
   */
  acquire(model: string, avoid: ReadonlySet<string> = new Set(), prefer?: string): Lease<C> {
    const open = this.endpoints.filter((e) => !avoid.has(e.url) && !e.down);
    const preferred = prefer === undefined ? undefined : open.find((e) => e.url === prefer);
    if (preferred) return this.lease(preferred);
    const healthy = open.filter((e) => e.healthy && e.serves(model));
    const candidates = healthy.length > 0 ? healthy : open.filter((e) => e.serves(model));
    if (candidates.length === 0) throw new NoModelServerError(model);
    const start = this.turn++ % candidates.length;
    let best = candidates[start]!;
    for (let i = 1; i < candidates.length; i++) {
      const candidate = candidates[(start + i) % candidates.length]!;
      if (candidate.inFlight < best.inFlight) best = candidate;
    }
    return this.lease(best);
  }

  /**
   * A request on `url` failed as unreachable (connection refused or reset): no new requests go there
   * until a probe answers, instead of waiting for the next probe to notice.
   */
  reportUnreachable(url: string): void {
    const endpoint = this.endpoints.find((e) => e.url === url);
    if (endpoint) this.setHealthy(endpoint, false);
  }

  /** One round of probes; resolves when every endpoint has answered or timed out. */
  async probeAll(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => this.probe(e)));
  }

  private lease(endpoint: EndpointState<C>): Lease<C> {
    endpoint.inFlight += 1;
    let released = false;
    return {
      endpoint,
      signal: endpoint.downController.signal,
      release: () => {
        if (released) return;
        released = true;
        endpoint.inFlight -= 1;
      },
    };
  }

  private async probe(endpoint: EndpointState<C>): Promise<void> {
    if (endpoint.probing) return;
    endpoint.probing = true;
    const deadlineMs = this.options.timeoutMs;
    try {
      const [ready, index] = await Promise.all([
        endpoint.client.serverReady({ deadlineMs }),
        endpoint.client.repositoryIndex({ deadlineMs, readyOnly: true }),
      ]);
      endpoint.failures = 0;
      endpoint.readyModels = new Set(index.filter((m) => m.state === "" || m.state === "READY").map((m) => m.name));
      // It answered, so it is not hung; but a server that says it is not ready gets no new requests.
      this.setHealthy(endpoint, ready);
    } catch {
      endpoint.failures += 1;
      this.setHealthy(endpoint, false);
      if (endpoint.failures === DOWN_AFTER) {
        const controller = endpoint.downController;
        endpoint.downController = new AbortController();
        controller.abort(new TritonError(GrpcStatus.UNAVAILABLE, `model server ${endpoint.url} stopped answering`, { retryable: true }));
      }
    } finally {
      endpoint.probing = false;
    }
  }

  private setHealthy(endpoint: EndpointState<C>, healthy: boolean): void {
    if (endpoint.healthy === healthy) return;
    endpoint.healthy = healthy;
    for (const listener of this.listeners) listener(endpoint.url, healthy);
  }
}
