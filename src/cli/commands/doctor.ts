import type { BackendName } from "../../backends/backend.js";
import { DEFAULT_BACKEND } from "../../core/backend-names.js";
import { type Check, doctor } from "../../core/doctor.js";
import { ExitCode } from "../../errors/exit-codes.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function doctorCommand(
  output: Output,
  flags: { backend?: BackendName; dir?: string },
): Promise<number> {
  const backend = flags.backend ?? DEFAULT_BACKEND;
  // Without the engine: doctor is what tells the user the engine is missing.
  const report = await doctor(
    await services(),
    backend,
    process.version,
    flags.dir ?? process.cwd(),
  );
  output.result("doctor", { ...report }, () => {
    const { colour } = output;
    const width = Math.max(...report.checks.map((check) => check.name.length));
    const line = (check: Check) => {
      const needed = check.neededBy.includes(backend);
      const mark = check.ok ? colour.green("✓") : needed ? colour.red("✗") : colour.yellow("!");
      const text = `${mark} ${check.name.padEnd(width)}  ${check.detail}`;
      return check.ok || !check.hint
        ? text
        : `${text}\n${" ".repeat(width + 4)}${colour.dim(check.hint)}`;
    };
    const verdict = report.usable
      ? colour.green(`The ${backend} backend is usable here.`)
      : colour.red(`The ${backend} backend is not usable here: fix the ✗ lines.`);
    // What to ask an administrator for, ready to apply (the bindings are theirs to write).
    const access = report.access;
    const rbac =
      access && (!access.reachable || access.denied.length > 0)
        ? `\n\nThe minimal rights it needs (bind them to your user or group):\n\n${access.rbac}`
        : "";
    return `${report.checks.map(line).join("\n")}\n\n${verdict}${rbac}`;
  });
  return report.usable ? ExitCode.ok : ExitCode.missingPrerequisite;
}
