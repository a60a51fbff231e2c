import type { BackendName } from "../../backends/backend.js";
import { purgeCaches } from "../../core/operations.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function cachePurgeCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName },
): Promise<number> {
  const report = await purgeCaches(await services(), flags, await output.progress());
  output.result("cache purge", { ...report }, () =>
    report.refreshed.length > 0
      ? `Purged ${report.id}: ${report.refreshed.join(", ")}.`
      : `${report.id} has no caches to purge.`,
  );
  return 0;
}
