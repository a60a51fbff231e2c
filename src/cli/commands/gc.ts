import { gc } from "../../core/gc.js";
import { formatDuration } from "../../ui/duration.js";
import { describeRemoved } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function gcCommand(
  output: Output,
  flags: { dryRun: boolean },
): Promise<number> {
  const report = await gc(await services(), { dryRun: flags.dryRun }, await output.progress());
  output.result("gc", { ...report }, () => {
    if (report.expired.length === 0) {
      return `Nothing expired (${report.kept.length} environment(s) kept).`;
    }
    const now = Date.now();
    const lines = report.expired.map((entry) => {
      const ago = `expired ${formatDuration(now - Date.parse(entry.expiresAt))} ago`;
      if (!entry.removed) return `  would remove ${entry.id} (${entry.backend}, ${ago})`;
      return `  removed ${entry.id} (${entry.backend}, ${ago}): ${describeRemoved(entry.removed)}`;
    });
    return [
      report.dryRun ? "Dry run, nothing removed:" : "Removed expired environments:",
      ...lines,
      `${report.kept.length} environment(s) kept.`,
    ].join("\n");
  });
  return 0;
}
