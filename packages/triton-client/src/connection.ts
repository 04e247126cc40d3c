/**
 * Channel management: one gRPC channel per endpoint + settings, shared by all
 * TritonClient instances that ask for it and closed when the last one closes.
 *
 * Reconnection after a Triton restart is grpc-js's own channel state machine;
 * we only shorten its backoff so a restarted Triton is picked up within about
 * a second instead of gRPC's default of up to two minutes.
 */
import * as grpc from "@grpc/grpc-js";
import { inferenceClientConstructor, type GrpcInferenceClient } from "./grpc-definition";
import type { TlsOptions, TritonClientOptions } from "./types";

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Stock Triton (gRPC core defaults) accepts at most one ping per 5 minutes on a
 * connection that sends it no data, and answers a third early ping with
 * GOAWAY(too_many_pings), which would break Morgan's long-lived streams during
 * quiet periods. So the default stays just above 5 minutes; it still detects a
 * half-open connection, while a Triton that dies on the same host is noticed at
 * once through the closed socket. For faster detection set keepaliveMs lower
 * AND start Triton with --grpc-keepalive-permit-without-calls=true
 * --grpc-http2-max-pings-without-data=0
 * --grpc-http2-min-recv-ping-interval-without-data=<below keepaliveMs>.
 */
export const DEFAULT_KEEPALIVE_MS = 330_000;
/** How long an unanswered keep-alive ping may take before the connection counts as dead. */
export const KEEPALIVE_TIMEOUT_MS = 10_000;
export const INITIAL_RECONNECT_BACKOFF_MS = 100;
export const MAX_RECONNECT_BACKOFF_MS = 1_000;

export function channelOptions(options: TritonClientOptions): grpc.ChannelOptions {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  const channel: grpc.ChannelOptions = {
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
    "grpc.initial_reconnect_backoff_ms": INITIAL_RECONNECT_BACKOFF_MS,
    "grpc.max_reconnect_backoff_ms": MAX_RECONNECT_BACKOFF_MS,
  };
  if (keepaliveMs > 0) {
    channel["grpc.keepalive_time_ms"] = keepaliveMs;
    channel["grpc.keepalive_timeout_ms"] = KEEPALIVE_TIMEOUT_MS;
    // Pings only while calls are active: Triton's default ping policy answers
    // idle-connection pings with GOAWAY(too_many_pings).
    channel["grpc.keepalive_permit_without_calls"] = 0;
  }
  return channel;
}

export function channelCredentials(tls: boolean | TlsOptions | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (tls === true) return grpc.credentials.createSsl();
  if (tls.credentials) return tls.credentials;
  return grpc.credentials.createSsl(
    tls.rootCerts ? Buffer.from(tls.rootCerts) : null,
    tls.privateKey ? Buffer.from(tls.privateKey) : null,
    tls.certChain ? Buffer.from(tls.certChain) : null,
  );
}

interface PooledChannel {
  client: GrpcInferenceClient;
  users: number;
}

const pool = new Map<string, PooledChannel>();
const tlsIdentities = new WeakMap<object, number>();
let nextTlsIdentity = 1;

/** Custom TLS objects are compared by identity; plaintext and system-root TLS by value. */
function tlsKey(tls: boolean | TlsOptions | undefined): string {
  if (!tls) return "plain";
  if (tls === true) return "tls";
  let identity = tlsIdentities.get(tls);
  if (identity === undefined) {
    identity = nextTlsIdentity++;
    tlsIdentities.set(tls, identity);
  }
  return `tls#${identity}`;
}

export interface ChannelLease {
  client: GrpcInferenceClient;
  release(): void;
}

/** Borrows the shared channel for these options (creating it on first use). */
export function acquireChannel(options: TritonClientOptions): ChannelLease {
  const settings = channelOptions(options);
  const key = `${options.url}|${tlsKey(options.tls)}|${JSON.stringify(settings)}`;
  let entry = pool.get(key);
  if (!entry) {
    const Client = inferenceClientConstructor();
    entry = { client: new Client(options.url, channelCredentials(options.tls), settings), users: 0 };
    pool.set(key, entry);
  }
  entry.users++;
  const leased = entry;
  let released = false;
  return {
    client: leased.client,
    release() {
      if (released) return;
      released = true;
      leased.users--;
      if (leased.users === 0) {
        pool.delete(key);
        leased.client.close();
      }
    },
  };
}

/** For tests: how many distinct channels are open right now. */
export function openChannelCount(): number {
  return pool.size;
}
