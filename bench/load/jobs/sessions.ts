/**
 * Many idle sessions held open: the harness tells the worker (over stdin) to open more sessions, to
 * run occasional text turns, and to close. Each session pings periodically, as a client keeping its
 * connection alive does, and its pong round trip is recorded.
 */
import type { HoldOpened, HoldResult, Job, WorkerEvent } from "../protocol";
import { LoadSocket } from "../ws";

/** Sockets opened at once per worker: enough to measure the set-up rate, few enough not to time out. */
const OPEN_CONCURRENCY = 32;

export async function holdSessions(job: Extract<Job, { kind: "hold-sessions" }>, emit: (event: WorkerEvent) => Promise<void> | void): Promise<HoldResult> {
  const sockets: LoadSocket[] = [];
  const pingTimers: Timer[] = [];
  const pongMs: number[] = [];
  const turnFirstTextMs: number[] = [];
  const errors: string[] = [];
  const note = (error: unknown) => {
    if (errors.length < 20) errors.push(error instanceof Error ? error.message : String(error));
  };

  const keepAlive = (socket: LoadSocket) => {
    // Staggered so the pings of all sessions do not land on the same tick.
    const offset = Math.random() * job.pingIntervalMs;
    const startTimer = setTimeout(() => {
      const timer = setInterval(() => {
        if (socket.closed) return clearInterval(timer);
        const sent = performance.now();
        socket.waitFor((m) => m.type === "pong", 10_000).then(({ at }) => pongMs.push(at - sent), note);
        socket.send({ type: "ping", data: { timestamp: Date.now() } });
      }, job.pingIntervalMs);
      pingTimers.push(timer);
    }, offset);
    pingTimers.push(startTimer);
  };

  const open = async (count: number): Promise<HoldOpened> => {
    const started = performance.now();
    const setupMs: number[] = [];
    const failures: string[] = [];
    let next = 0;
    const opener = async () => {
      while (next < count) {
        next += 1;
        const begun = performance.now();
        try {
          const socket = await LoadSocket.connect(`${job.wsUrl}/ws/stream`);
          await socket.start({});
          setupMs.push(performance.now() - begun);
          sockets.push(socket);
          keepAlive(socket);
        } catch (error) {
          if (failures.length < 20) failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, opener));
    return { total: sockets.filter((s) => !s.closed).length, setupMs, wallS: (performance.now() - started) / 1000, failures };
  };

  const turns = async (seconds: number): Promise<number> => {
    const until = performance.now() + seconds * 1000;
    let count = 0;
    while (performance.now() < until) {
      const socket = sockets[Math.floor(Math.random() * sockets.length)];
      if (socket && !socket.closed) {
        const sent = performance.now();
        const first = socket.waitFor((m) => m.type === "response_text", 30_000);
        socket.send({ type: "text", data: { text: job.turnText } });
        first.then(({ at }) => turnFirstTextMs.push(at - sent), note);
        count += 1;
      }
      await Bun.sleep(1000);
    }
    return count;
  };

  const deadline = setTimeout(() => {
    void Promise.resolve(emit({ event: "failed", message: `hold-sessions ran past its ${job.deadlineS} s limit` })).then(() => process.exit(2));
  }, job.deadlineS * 1000);

  for await (const line of console) {
    const [command, argument] = line.trim().split(/\s+/);
    if (command === "open") await emit({ event: "opened", data: await open(Number(argument)) });
    else if (command === "turns") await emit({ event: "turns-done", data: { turns: await turns(Number(argument)) } });
    else if (command === "close") break;
  }
  clearTimeout(deadline);
  for (const timer of pingTimers) clearInterval(timer);
  const stillOpen = sockets.filter((s) => !s.closed).length;
  // Closed without `stop`: the sessions stay resumable on the server until the resume window ends,
  // which is what a crowd of dropped clients looks like; the harness stops the server afterwards.
  for (const socket of sockets) socket.close();
  return { turnFirstTextMs, pongMs, errors, stillOpen };
}
