/**
 * REST request rate: `concurrency` loops, each sending the next GET as soon as the last one is
 * answered, for a fixed time. With a token every request carries `Authorization: Bearer`, so each
 * one pays for authentication (an API key's digest, or a JWT's signature check).
 */
import type { FloodResult, Job } from "../protocol";

export async function restFlood(job: Extract<Job, { kind: "rest-flood" }>): Promise<FloodResult> {
  const errors: string[] = [];
  const roundTripMs: number[] = [];
  const headers: Record<string, string> = job.token ? { authorization: `Bearer ${job.token}` } : {};
  const url = `${job.httpUrl}${job.path}`;
  let sent = 0;
  const started = performance.now();
  const until = started + job.durationS * 1000;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (performance.now() < until) {
        const sentAt = performance.now();
        sent += 1;
        try {
          const response = await fetch(url, { headers });
          await response.arrayBuffer();
          if (response.ok) roundTripMs.push(performance.now() - sentAt);
          else if (errors.length < 20) errors.push(`${response.status} ${response.statusText}`);
        } catch (error) {
          if (errors.length < 20) errors.push(String(error));
        }
      }
    }),
  );
  return { sent, answered: roundTripMs.length, errors, wallS: (performance.now() - started) / 1000, roundTripMs };
}
