import type { BackendName } from "../../backends/backend.js";
import { drush } from "../../core/operations.js";
import type { Output } from "../output.js";
import { afterSeparator, interactive, services } from "./common.js";

export default async function drushCommand(
  _output: Output,
  flags: { dir: string; name?: string; backend?: BackendName },
  args: string[],
): Promise<number> {
  return drush(await services(), { ...flags, args: afterSeparator(args), tty: interactive() });
}
