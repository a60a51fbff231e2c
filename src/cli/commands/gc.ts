import { gc } from "../../core/gc.js";
import { formatDuration } from "../../ui/duration.js";
import { describeRemoved } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function gcCommand(
  output: Output,
  flags: { dryRun: boolean; dir?: string },
): Promise<number> {
  const report = await gc(
    await services(),
    { dryRun: flags.dryRun, dir: flags.dir },
    await output.progress(),
  );
  output.result("gc", { ...report }, () => {
    const now = Date.now();
    const ago = (expiresAt: string) => `expired ${formatDuration(now - Date.parse(expiresAt))} ago`;
    const lines = report.expired.map((entry) => {
      if (!entry.removed)
        return `  would remove ${entry.id} (${entry.backend}, ${ago(entry.expiresAt)})`;
      return `  removed ${entry.id} (${entry.backend}, ${ago(entry.expiresAt)}): ${describeRemoved(entry.removed)}`;
    });
    const namespaces = report.namespaces.map((entry) => {
      const what = `namespace ${entry.namespace} on ${entry.context} (${entry.env} of ${entry.owner}, ${ago(entry.expiresAt)})`;
      if (entry.deleted === undefined) return `  would delete ${what}`;
      if (entry.deleted) return `  deleted ${what}`;
      return entry.problem
        ? output.colour.yellow(`! could not delete ${what}: ${entry.problem}`)
        : `  left ${what}: kept, given more time or gone since it was listed`;
    });
    const warnings = report.unreachable.map(
      (warning) => `! ${warning.context}: ${warning.problem}`,
    );
    const removed = [...lines, ...namespaces];
    return [
      removed.length === 0
        ? `Nothing expired (${report.kept.length} environment(s) kept).`
        : report.dryRun
          ? "Dry run, nothing removed:"
          : "Removed expired environments:",
      ...removed,
      ...(removed.length ? [`${report.kept.length} environment(s) kept.`] : []),
      ...warnings.map((line) => output.colour.yellow(line)),
    ].join("\n");
  });
  return 0;
}
