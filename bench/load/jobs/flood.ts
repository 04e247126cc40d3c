/**
 * Message throughput: each connection keeps `window` control messages in flight and sends the next
 * as soon as one is answered, for a fixed time. What counts as an answer:
 *   ping   → its pong
 *   config → a ping sent right after it (config has no reply; the pong proves both were handled,
 *            since a connection's messages are handled in order), counted as two messages
 *   text   → response_complete (one turn in flight per connection: a new text would interrupt it)
 */
import type { FloodResult, Job } from "../protocol";
import { LoadSocket } from "../ws";

export async function flood(job: Extract<Job, { kind: "flood" }>): Promise<FloodResult> {
  const errors: string[] = [];
  const sockets = await Promise.all(
    Array.from({ length: job.connections }, async () => {
      const socket = await LoadSocket.connect(`${job.wsUrl}/ws/stream`, undefined, job.protocols);
      await socket.start({});
      return socket;
    }),
  );
  const pingJson = JSON.stringify({ type: "ping" });
  const configJson = JSON.stringify({ type: "config", data: { speed: 1 } });
  const textJson = JSON.stringify({ type: "text", data: { text: job.text } });
  const answerType = job.message === "text" ? "response_complete" : "pong";
  const messagesPerUnit = job.message === "config" ? 2 : 1;
  const window = job.message === "text" ? 1 : job.window;

  let sent = 0;
  let answered = 0;
  const roundTripMs: number[] = [];
  const started = performance.now();
  const until = started + job.durationS * 1000;

  const sendUnit = (socket: LoadSocket, inFlight: number[]) => {
    inFlight.push(performance.now());
    if (job.message === "config") socket.sendRaw(configJson);
    socket.sendRaw(job.message === "text" ? textJson : pingJson);
    sent += messagesPerUnit;
  };

  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          const inFlight: number[] = [];
          socket.onMessage(({ at, message }) => {
            if (message.type === "error" && errors.length < 20) errors.push(JSON.stringify(message.data));
            if (message.type !== answerType) return;
            const sentAt = inFlight.shift();
            if (sentAt !== undefined && at <= until) {
              roundTripMs.push(at - sentAt);
              answered += messagesPerUnit;
            }
            if (performance.now() < until) sendUnit(socket, inFlight);
            else if (inFlight.length === 0) resolve();
          });
          socket.onClose(resolve);
          for (let i = 0; i < window; i++) sendUnit(socket, inFlight);
          // Answers still missing well after the end do not hold the result back.
          setTimeout(resolve, job.durationS * 1000 + 10_000);
        }),
    ),
  );
  const wallS = (Math.min(performance.now(), until) - started) / 1000;
  for (const socket of sockets) socket.close();
  return { sent, answered, errors, wallS, roundTripMs };
}
