/**
 * Resource use of one process from /proc: CPU time (utime + stime of /proc/<pid>/stat) and resident
 * memory (VmRSS of /proc/<pid>/status), sampled in the background so a scenario's peak is seen even
 * when it lasts only between two reads. Linux only, like the machines Morgan is benchmarked on.
 */
import { readFileSync } from "node:fs";

/** Kernel clock ticks per second (`getconf CLK_TCK`), 100 on every Linux we run on. */
const CLOCK_TICKS = 100;

export interface ProcessUsage {
  pid: number;
  wallS: number;
  cpuS: number;
  /** CPU seconds per wall second: 1.0 is one core fully busy. */
  cpuCores: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssPeakMiB: number;
}

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** A process and all its descendants (Triton's Python backend models run in stub child processes). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]!;
    let tasks: string[] = [];
    try {
      tasks = [...new Bun.Glob("*").scanSync({ cwd: `/proc/${parent}/task`, onlyFiles: false })];
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8").trim();
        if (children) tree.push(...children.split(/\s+/).map(Number));
      } catch {
        // exited meanwhile
      }
    }
  }
  return tree;
}

function treeCpuSeconds(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

function treeRssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += rssKiB(pid);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/**
 * Samples one process (with `includeChildren`, its whole tree, listed once at the start) every
 * `intervalMs` until stopped; `stop` returns the usage over the window.
 */
export class ProcessSampler {
  private readonly startedAt = performance.now();
  private readonly cpuStart: number;
  private readonly rssStart: number;
  private peak: number;
  private readonly timer: Timer;
  readonly series: { atS: number; rssMiB: number; cpuS: number }[] = [];

  private readonly pids: number[];

  constructor(readonly pid: number, options: { intervalMs?: number; includeChildren?: boolean } = {}) {
    this.pids = options.includeChildren ? processTree(pid) : [pid];
    this.cpuStart = treeCpuSeconds(this.pids);
    this.rssStart = treeRssKiB(this.pids);
    this.peak = this.rssStart;
    this.timer = setInterval(() => this.sample(), options.intervalMs ?? 100);
  }

  private sample(): void {
    const rss = treeRssKiB(this.pids);
    if (rss === 0) return; // exited: stop() reports what was seen
    if (rss > this.peak) this.peak = rss;
    this.series.push({ atS: (performance.now() - this.startedAt) / 1000, rssMiB: rss / 1024, cpuS: treeCpuSeconds(this.pids) - this.cpuStart });
  }

  stop(): ProcessUsage {
    clearInterval(this.timer);
    this.sample();
    const wallS = (performance.now() - this.startedAt) / 1000;
    const last = this.series.at(-1);
    const cpuS = last?.cpuS ?? 0;
    const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
    return {
      pid: this.pid,
      wallS: Math.round(wallS * 100) / 100,
      cpuS: Math.round(cpuS * 100) / 100,
      cpuCores: wallS > 0 ? Math.round((cpuS / wallS) * 100) / 100 : 0,
      rssStartMiB: mib(this.rssStart),
      rssEndMiB: last ? Math.round(last.rssMiB * 10) / 10 : mib(this.rssStart),
      rssPeakMiB: mib(this.peak),
    };
  }
}

/** The machine's load averages (1, 5, 15 min), recorded before and after each scenario. */
export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync("/proc/loadavg", "utf8").split(" ").map(Number);
  return [one ?? 0, five ?? 0, fifteen ?? 0];
}

/** Child processes of this process whose command line contains `needle` (Bun.spawn children). */
export function childPids(needle: string): number[] {
  const pids: number[] = [];
  const tasks = new Bun.Glob("*").scanSync({ cwd: `/proc/${process.pid}/task`, onlyFiles: false });
  for (const task of tasks) {
    let children = "";
    try {
      children = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8");
    } catch {
      continue;
    }
    for (const pid of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle)) pids.push(pid);
      } catch {
        // exited
      }
    }
  }
  return pids;
}

/**
 * Triton's processes by model: tritonserver itself ("tritonserver") and each Python backend stub,
 * whose command line ends with its instance name (`stt_0_0 DEFAULT`), so CPU and memory can be told
 * apart per model.
 */
export function tritonProcesses(tritonPid: number): { pid: number; name: string }[] {
  return processTree(tritonPid).flatMap((pid) => {
    if (pid === tritonPid) return [{ pid, name: "tritonserver" }];
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      const instance = args.at(-2) ?? "";
      const model = /^(.+)_\d+_\d+$/.exec(instance)?.[1];
      return [{ pid, name: model ?? args[0] ?? String(pid) }];
    } catch {
      return [];
    }
  });
}

/** CPU seconds (utime + stime) so far of Triton's processes, summed per model (see tritonProcesses). */
export function tritonCpuByModel(tritonPid: number): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { pid, name } of tritonProcesses(tritonPid)) {
    try {
      totals[name] = (totals[name] ?? 0) + cpuSeconds(pid);
    } catch {
      // exited meanwhile
    }
  }
  return totals;
}

/** Resident memory in MiB of Triton's processes, summed per model (see tritonProcesses). */
export function tritonRssByModel(tritonPid: number): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { pid, name } of tritonProcesses(tritonPid)) {
    try {
      totals[name] = (totals[name] ?? 0) + rssKiB(pid) / 1024;
    } catch {
      // exited meanwhile
    }
  }
  return totals;
}
