/** Model repository tool; see src/inference/model-repository/cli.ts for the commands. */
import { runModelsCli } from "../src/inference/model-repository/cli";

const code = await runModelsCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  tritonUrl: process.env.TRITON_URL ?? "127.0.0.1:8101",
});
process.exit(code);
