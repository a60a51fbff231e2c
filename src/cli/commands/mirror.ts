import { mirror } from "../../core/mirror.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function mirrorCommand(
  output: Output,
  flags: { dir: string; name?: string; from?: string; context?: string; namespace?: string },
): Promise<number> {
  const report = await mirror(await services(), flags);
  output.result("mirror", { ...report }, () => {
    const lines = [
      `Mirrored ${report.objects.length} object(s) from ${report.source} into ${report.file}`,
    ];
    if (report.transforms.length > 0) {
      lines.push("", "Local transforms (expected differences from production):");
      for (const applied of report.transforms) {
        const what = `${applied.kind}/${applied.name}${applied.container ? ` ${applied.container}` : ""}`;
        lines.push(`  ${applied.transform.padEnd(18)} ${what}: ${applied.detail}`);
      }
    }
    for (const [where, adaptations] of [
      ["compose", report.compose.adaptations],
      [`kind / minikube (namespace ${report.cluster.namespace})`, report.cluster.adaptations],
    ] as const) {
      if (adaptations.length === 0) continue;
      lines.push("", `On ${where}:`);
      for (const adaptation of adaptations)
        lines.push(`  ${adaptation.kind}/${adaptation.name}: ${adaptation.detail}`);
    }
    if (report.skipped.length > 0) {
      lines.push("", "Skipped (not mirrored):");
      for (const skipped of report.skipped) {
        lines.push(
          `  ${skipped.kind}/${skipped.name} (${skipped.source}, document ${skipped.index}): ${skipped.reason}`,
        );
      }
    }
    return lines.join("\n");
  });
  return 0;
}
