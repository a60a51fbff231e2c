import type { BackendName } from "../../backends/backend.js";
import { list } from "../../core/environments.js";
import { formatList } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// The table reads the listing alone (one engine query); --json carries everything the
// dashboard shows (snapshots, releases, data origin, Xdebug, caught mail) as well.
export default async function lsCommand(
  output: Output,
  flags: { backend?: BackendName; json?: boolean },
): Promise<number> {
  const core = await services();
  if (flags.json && !flags.backend) {
    const { overview } = await import("../../core/overview.js");
    output.result("ls", { environments: await overview(core) }, () => "");
    return 0;
  }
  const environments = await list(core, flags.backend);
  output.result("ls", { environments }, () => formatList(environments, output.colour));
  return 0;
}
