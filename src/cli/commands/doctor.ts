import type { BackendName } from "../../backends/backend.js";
import { type Check, readProcFile, runDoctor } from "../../core/doctor.js";
import { probeLoopbackPort } from "../../env/port-allocator.js";
import { ExitCode } from "../../errors/exit-codes.js";
import { ExecaCommandRunner } from "../../process/execa-command-runner.js";
import { loadPreset } from "../../topology/preset-loader.js";
import type { Output } from "../output.js";

export default async function doctorCommand(
  output: Output,
  flags: { backend?: BackendName },
): Promise<number> {
  const backend = flags.backend ?? "compose";
  const preset = await loadPreset("drupal");
  const report = await runDoctor(
    {
      runner: new ExecaCommandRunner(),
      nodeVersion: process.version,
      isPortFree: probeLoopbackPort,
      readProcFile,
      ports: Object.entries(preset.definition.defaults.ports).map(([name, port]) => ({
        name,
        port,
      })),
    },
    backend,
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
    return `${report.checks.map(line).join("\n")}\n\n${verdict}`;
  });
  return report.usable ? ExitCode.ok : ExitCode.missingPrerequisite;
}
