import type { BackendName } from "../../backends/backend.js";
import { exec } from "../../core/operations.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { afterSeparator, interactive, services } from "./common.js";

export default async function execCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName; workdir?: string },
  service: string,
  command: string[],
): Promise<number> {
  if (output.mode === "json") {
    throw new ProdlikeError("USAGE", "exec has no --json form", {
      hint: "The command's own output is passed through; drop --json.",
    });
  }
  if (afterSeparator(command).length === 0) {
    throw new ProdlikeError("USAGE", "exec needs a command", {
      hint: "prodlike exec SERVICE -- COMMAND [ARGS...]",
    });
  }
  return exec(await services(), {
    ...flags,
    service,
    command: afterSeparator(command),
    tty: interactive(),
    ...(flags.workdir ? { workdir: flags.workdir } : {}),
  });
}
