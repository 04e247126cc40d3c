/** Model repository tool; see src/inference/model-repository/cli.ts for the commands. */
import { ConfigError, loadConfig } from "../src/config/index.ts";
import { tritonUrls } from "../src/config/sections/triton.ts";
import { runModelsCli } from "../src/inference/model-repository/cli";
import { DEFAULT_MODEL_NAMES } from "../src/inference/model-repository/validate";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}
const code = await runModelsCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  // With several Tritons (a TRITON_URL list) the tool administers the first, as Morgan's admin API does.
  tritonUrl: tritonUrls(config.triton.url)[0]!,
  modelNames: { ...DEFAULT_MODEL_NAMES, ...config.triton.models },
  timeoutMs: config.triton.timeouts.modelControlMs,
});
process.exit(code);
