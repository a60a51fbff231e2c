import type { BackendName } from "../../backends/backend.js";
import { dbImport } from "../../core/db-operations.js";
import type { Output } from "../output.js";
import { hookFlags, lockTimeoutMs, services } from "./common.js";

export default async function dbImportCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    backend?: BackendName;
    allowEmpty: boolean;
    lockTimeout?: string;
    hooks?: boolean;
  },
  file: string,
): Promise<number> {
  const report = await dbImport(
    await services(),
    {
      ...flags,
      file,
      stdin: process.stdin,
      lockTimeoutMs: lockTimeoutMs(flags),
      ...hookFlags(flags),
    },
    await output.progress(),
  );
  output.result("db import", { ...report }, () =>
    [
      `Imported ${report.source} into ${report.database} of ${report.id}: ${report.tables} tables, ${(report.bytes / 1e6).toFixed(1)} MB in ${(report.durationMs / 1000).toFixed(1)} s (${report.megabytesPerSecond.toFixed(1)} MB/s).`,
      ...report.fixes.map((fix) => `  fixed: ${fix}`),
      ...report.refreshed.map((step) => `  refreshed: ${step}`),
    ].join("\n"),
  );
  return 0;
}
