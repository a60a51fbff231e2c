import type { BackendName } from "../../backends/backend.js";
import { exec, SHELL_COMMAND } from "../../core/operations.js";
import type { Output } from "../output.js";
import { interactive, services } from "./common.js";

export default async function shellCommand(
  _output: Output,
  flags: { dir: string; name?: string; backend?: BackendName },
  service: string,
): Promise<number> {
  return exec(await services(), { ...flags, service, command: SHELL_COMMAND, tty: interactive() });
}
