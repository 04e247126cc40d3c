/**
 * TLS plumbing, against a TEST gRPC server (same generated definitions, not
 * Triton) serving a self-signed certificate made with openssl at test time.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GrpcStatus, TritonClient, TritonError } from "@triton-client";
import { tritonProto } from "../src/grpc-definition";

let server: grpc.Server;
let port: number;
let certificate: Buffer;
const workDir = mkdtempSync(join(tmpdir(), "triton-client-tls-"));

beforeAll(async () => {
  const key = join(workDir, "key.pem");
  const cert = join(workDir, "cert.pem");
  const made = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert,
  ], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  certificate = readFileSync(cert);
  server = new grpc.Server();
  server.addService(tritonProto().inference.GRPCInferenceService.service, {
    ServerLive: (_call: unknown, callback: grpc.sendUnaryData<{ live: boolean }>) => callback(null, { live: true }),
  } as grpc.UntypedServiceImplementation);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createSsl(null, [{ cert_chain: certificate, private_key: readFileSync(key) }]),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
});

afterAll(() => {
  server?.forceShutdown();
  rmSync(workDir, { recursive: true, force: true });
});

test("a client given the server's root certificate talks TLS", async () => {
  const client = new TritonClient({ url: `localhost:${port}`, tls: { rootCerts: certificate } });
  try {
    expect(await client.serverLive({ deadlineMs: 5_000 })).toBe(true);
  } finally {
    client.close();
  }
});

test("a plaintext client cannot talk to a TLS server and says UNAVAILABLE", async () => {
  const client = new TritonClient({ url: `localhost:${port}` });
  try {
    const error = await client.serverLive({ deadlineMs: 5_000 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TritonError);
    expect((error as TritonError).code).toBe(GrpcStatus.UNAVAILABLE);
  } finally {
    client.close();
  }
});

test("TLS with system roots rejects the self-signed certificate", async () => {
  const client = new TritonClient({ url: `localhost:${port}`, tls: true });
  try {
    const error = await client.serverLive({ deadlineMs: 5_000 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TritonError);
    expect((error as TritonError).code).toBe(GrpcStatus.UNAVAILABLE);
  } finally {
    client.close();
  }
});
