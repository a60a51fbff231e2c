import type { BackendName } from "../../backends/backend.js";
import { list } from "../../core/environments.js";
import { type TeamListing, teamListing } from "../../core/team-clusters.js";
import { formatList, formatTeamList } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// The table reads the listing alone (one engine query); --json carries everything the
// dashboard shows (snapshots, releases, data origin, Xdebug, caught mail) as well. Then
// everyone's environments on the team clusters (core/team-clusters.ts), with owners.
export default async function lsCommand(
  output: Output,
  flags: { backend?: BackendName; json?: boolean; dir?: string },
): Promise<number> {
  const core = await services();
  const team: Promise<TeamListing> = teamListing(core, flags.dir, flags.backend);
  if (flags.json && !flags.backend) {
    const { overview } = await import("../../core/overview.js");
    const [environments, clusters] = await Promise.all([overview(core), team]);
    output.result("ls", { environments, team: clusters }, () => "");
    return 0;
  }
  const [environments, clusters] = await Promise.all([list(core, flags.backend), team]);
  output.result("ls", { environments, team: clusters }, () =>
    [formatList(environments, output.colour), formatTeamList(clusters, output.colour)]
      .filter(Boolean)
      .join("\n\n"),
  );
  return 0;
}
