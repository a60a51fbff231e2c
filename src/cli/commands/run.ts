import type { BackendName } from "../../backends/backend.js";
import { projectCommands, runProjectCommand } from "../../core/operations.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { formatTable } from "../format.js";
import type { Output } from "../output.js";
import { afterSeparator, interactive, services } from "./common.js";

// `prodlike run NAME [ARGS…]` and `prodlike run --list`: the project's own commands.
export default async function runCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName; list: boolean },
  command: string | undefined,
  args: string[],
): Promise<number> {
  if (flags.list || command === undefined) {
    const commands = await projectCommands(await services(), flags);
    output.result("run", { commands }, () =>
      commands.length === 0
        ? "No commands in prodlike.yaml or the preset. Add some under `commands:`."
        : formatTable(
            ["COMMAND", "SERVICE", "FROM", "RUNS", "DESCRIPTION"],
            commands.map((entry) => [
              entry.name,
              entry.service,
              entry.from,
              entry.run,
              entry.description ?? "",
            ]),
            output.colour,
          ),
    );
    return 0;
  }
  if (output.mode === "json") {
    throw new ProdlikeError("USAGE", "run has no --json form for a command", {
      hint: "The command's own output is passed through; drop --json (run --list --json lists them).",
    });
  }
  return runProjectCommand(await services(), {
    ...flags,
    command,
    args: afterSeparator(args),
    tty: interactive(),
    progress: () => output.progress(),
  });
}
