import { parity } from "../../core/parity.js";
import { ExitCode } from "../../errors/exit-codes.js";
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
    const header = ["WORKLOAD", "CONTAINER", "FIELD", "PRODUCTION", "LOCAL", ""];
    const widths = header.map((title, column) =>
      Math.min(48, Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))),
    );
    const line = (cells: string[]) =>
      cells
        .map((cell, column) =>
          column < 5 ? clip(cell, widths[column] ?? 0).padEnd(widths[column] ?? 0) : cell,
        )
        .join("  ")
        .trimEnd();
    return [
      output.colour.bold(line(header)),
      ...rows.map(line),
      "",
      `${report.differences.length} difference(s), ${report.unexpected} unexpected.`,
    ].join("\n");
  });
  return report.unexpected > 0 ? ExitCode.failed : ExitCode.ok;
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
