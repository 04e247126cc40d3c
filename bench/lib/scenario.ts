/** What every scenario gets from the harness and what it hands back for the JSON, table and plots. */
import type { Distribution } from "./stats";
import type { BenchTriton, Machine } from "./environment";
import type { ProcessUsage } from "./procstat";

export interface BenchContext {
  triton: BenchTriton;
  quick: boolean;
  /** Start Morgan servers under Bun's CPU profiler, writing summaries under this folder. */
  profileDir?: string;
  log: (line: string) => void;
  machine: Machine;
  voiceLevels?: number[];
}

/** One line of the results table: a latency distribution or a single figure (rate, memory). */
export interface Row {
  /** e.g. "LLM TTFT, direct (a)" */
  figure: string;
  /** e.g. "100 streams" */
  load: string;
  unit: string;
  distribution?: Distribution | null;
  /** A single value (a rate, a ratio, memory) instead of a distribution. */
  value?: number | string | null;
  /** Requests, turns or messages per second during the measurement. */
  throughput?: { value: number; unit: string };
  server?: ProcessUsage;
  triton?: ProcessUsage;
  /** Load generators' CPU in cores over the same window (all worker processes together). */
  clientCpuCores?: number;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
  /** For a miss: by how much, and what limits it. */
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  startedAt: string;
  loadavgBefore: [number, number, number];
  loadavgAfter: [number, number, number];
  rows: Row[];
  targets: Target[];
  notes: string[];
  /** Series for plots (raw samples, curves), kept small. */
  plots: Record<string, unknown>;
}

export type Scenario = (context: BenchContext) => Promise<Omit<ScenarioResult, "id" | "title" | "startedAt" | "loadavgBefore" | "loadavgAfter">>;
