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
    /** `--subset` alone is true; `--subset 200` the rows. */
    subset?: string | boolean;
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
      subset: subsetFlag(flags.subset),
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
      report.subset
        ? `  a subset: the newest ${report.subset.rows} rows of the preset's root tables and what they reference (${report.subset.checks.length} consistency checks held)`
        : undefined,
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

function subsetFlag(value: string | boolean | undefined): number | true | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return true;
  const rows = Number(value);
  if (!Number.isInteger(rows) || rows < 1) {
    throw new ProdlikeError("USAGE", `--subset takes a number of rows, got \`${value}\``, {
      hint: "`--subset` keeps the preset's default; `--subset 200` the newest 200 of its root rows (nodes, orders).",
    });
  }
  return rows;
}
