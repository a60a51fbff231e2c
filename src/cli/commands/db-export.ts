import type { BackendName } from "../../backends/backend.js";
import { dbExport } from "../../core/db-operations.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function dbExportCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName; gzip: boolean },
  file: string | undefined,
): Promise<number> {
  if (file === "-" && output.mode === "json") {
    throw new ProdlikeError(
      "USAGE",
      "db export - writes the dump to stdout, so it has no --json form",
      {
        hint: "Give a file name to get a JSON report.",
      },
    );
  }
  const report = await dbExport(
    await services(),
    { ...flags, file, gzip: flags.gzip, stdout: process.stdout },
    await output.progress(),
  );
  if (file === "-") return 0;
  output.result(
    "db export",
    { ...report },
    () =>
      `Exported ${report.database} of ${report.id} to ${report.file}: ${(report.bytes / 1e6).toFixed(1)} MB${report.gzip ? " (gzip)" : ""} in ${(report.durationMs / 1000).toFixed(1)} s.`,
  );
  return 0;
}
