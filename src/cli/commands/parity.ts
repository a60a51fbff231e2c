import { parity } from "../../core/parity.js";
import { ExitCode } from "../../errors/exit-codes.js";
import { formatTable } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function parityCommand(
  output: Output,
  flags: { dir: string; name?: string; manifests?: string; against: string; policy?: string },
): Promise<number> {
  if (flags.against !== "rendered" && flags.against !== "running") {
    const { ProdlikeError } = await import("../../errors/prodlike-error.js");
    throw new ProdlikeError(
      "USAGE",
      `--against must be rendered or running, got \`${flags.against}\``,
    );
  }
  const report = await parity(await services(), { ...flags, against: flags.against });
  output.result("parity", { ...report }, () => {
    if (report.differences.length === 0) return `No differences from ${report.production}.`;
    const rows = report.differences.map((difference) => [
      difference.workload,
      difference.container ?? "",
      difference.field,
      difference.production,
      difference.local,
      difference.expected ? `expected (${difference.because})` : output.colour.red("UNEXPECTED"),
    ]);
    return [
      formatTable(
        ["WORKLOAD", "CONTAINER", "FIELD", "PRODUCTION", "LOCAL", ""],
        rows,
        output.colour,
        48,
      ),
      "",
      `${report.differences.length} difference(s), ${report.unexpected} unexpected.`,
    ].join("\n");
  });
  return report.unexpected > 0 ? ExitCode.failed : ExitCode.ok;
}
