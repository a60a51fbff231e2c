import type { BackendName } from "../../backends/backend.js";
import { dbPull } from "../../core/db-operations.js";
import { filesPull } from "../../core/files.js";
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
    files?: boolean;
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
  const progress = await output.progress();
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
    progress,
  );
  // --files: production's user files too, from the same source unless files.from says.
  const files = flags.files
    ? await filesPull(
        await services(),
        {
          ...flags,
          from: (flags.from ?? source)?.startsWith("@") ? undefined : (flags.from ?? source),
          lockTimeoutMs: lockTimeoutMs(flags),
        },
        progress,
      )
    : undefined;
  output.result("db pull", { ...report, ...(files ? { files } : {}) }, () => {
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
      files
        ? `  files: ${files.local}, ${files.transferred} of ${files.files} copied (${(files.bytes / 1e6).toFixed(1)} MB)`
        : undefined,
    ]
      .filter((line) => line !== undefined)
      .join("\n");
  });
  return 0;
}
