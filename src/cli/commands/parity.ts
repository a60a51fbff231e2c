import { type ParityReport, parity } from "../../core/parity.js";
import { ExitCode } from "../../errors/exit-codes.js";
import { formatTable } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function parityCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    manifests?: string;
    against: string;
    policy?: string;
    write: boolean;
  },
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
    const written = report.written ? writtenLines(report.written) : "";
    if (report.differences.length === 0)
      return `No differences from ${report.production}.${written}`;
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
      `${report.differences.length} difference(s), ${report.unexpected} unexpected.${written}`,
    ].join("\n");
  });
  return report.unexpected > 0 ? ExitCode.failed : ExitCode.ok;
}

function writtenLines(written: NonNullable<ParityReport["written"]>): string {
  const choices = [
    written.php ? `php: "${written.php}"` : "",
    written.database ? `database: ${written.database}` : "",
    written.addExtensions ? `phpExtensions + ${written.addExtensions.join(", ")}` : "",
  ].filter(Boolean);
  const lines = [
    "",
    written.changed
      ? `Wrote ${choices.join(", ")} into ${written.file}: the next prodlike up builds to match.`
      : `${written.file} already follows production${choices.length > 0 ? ` (${choices.join(", ")})` : ""}.`,
  ];
  if (written.notOffered.length > 0) {
    lines.push(
      `Not written: production runs ${written.notOffered.join(", ")}, which prodlike does not build.`,
    );
  }
  return lines.join("\n");
}
