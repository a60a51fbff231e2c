import type { BackendName } from "../../backends/backend.js";
import { logs } from "../../core/operations.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { createColour } from "../../ui/colour.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function logsCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName; follow: boolean; tail: string },
  serviceNames: string[],
): Promise<number> {
  if (output.mode === "json") {
    throw new ProdlikeError("USAGE", "logs has no --json form", {
      hint: "Logs are a stream of text; drop --json.",
    });
  }
  const tail = Number.parseInt(flags.tail, 10);
  if (!Number.isInteger(tail) || tail < 0)
    throw new ProdlikeError("USAGE", `--tail must be a whole number, got ${flags.tail}`);
  // Compose colours each service's prefix unless told not to: not on a pipe, not with NO_COLOR.
  const color = createColour(process.stdout, process.env).level > 0;
  return logs(await services(), { ...flags, services: serviceNames, tail, color });
}
