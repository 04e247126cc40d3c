import type { Scenario } from "../lib/scenario";
export const sessionScale: Scenario = async () => ({ rows: [], targets: [], notes: ["not written yet"], plots: {} });
