import type { BackendName } from "../../backends/backend.js";
import { dbPull } from "../../core/db-operations.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { hookFlags, lockTimeoutMs, services } from "./common.js";

export default async function dbPullCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    backend?: BackendName;
    from?: string;
    sanitize: boolean;
    lockTimeout?: string;
    hooks?: boolean;
  },
  source: string | undefined,
  target: string | undefined,
): Promise<number> {
  if (source !== undefined && flags.from !== undefined && source !== flags.from) {
    throw new ProdlikeError("USAGE", `Two sources: ${source} and --from ${flags.from}`, {
      hint: "Give the source once: `prodlike db pull @prod` or `prodlike db pull --from @prod`.",
    });
  }
  const report = await dbPull(
    await services(),
    {
      ...flags,
      from: flags.from ?? source,
      target,
      sanitize: flags.sanitize,
      lockTimeoutMs: lockTimeoutMs(flags),
      ...hookFlags(flags),
    },
    await output.progress(),
  );
  output.result("db pull", { ...report }, () => {
    const amount =
      report.bytes === undefined
        ? ""
        : `, ${(report.bytes / 1e6).toFixed(1)} MB at ${(report.megabytesPerSecond ?? 0).toFixed(1)} MB/s`;
    return [
      `Pulled ${report.source} into ${report.database} of ${report.id}: ${report.tables} tables${amount} in ${(report.durationMs / 1000).toFixed(1)} s.`,
      report.structureTables.length
        ? `  without rows: ${report.structureTables.join(", ")}`
        : undefined,
      report.sanitized
        ? "  sanitized before use"
        : "  NOT sanitized: this is production data as it is (--no-sanitize)",
      report.snapshot ? `  the data from before is snapshot ${report.snapshot}` : undefined,
      ...report.fixes.map((fix) => `  fixed: ${fix}`),
      ...report.refreshed.map((step) => `  refreshed: ${step}`),
    ]
      .filter((line) => line !== undefined)
      .join("\n");
  });
  return 0;
}
