import type { Scenario } from "../lib/scenario";
export const storageUnderConcurrency: Scenario = async () => ({ rows: [], targets: [], notes: ["not written yet"], plots: {} });
