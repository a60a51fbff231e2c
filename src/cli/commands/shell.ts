import type { BackendName } from "../../backends/backend.js";
import { shell } from "../../core/operations.js";
import type { Output } from "../output.js";
import { interactive, services } from "./common.js";

export default async function shellCommand(
  _output: Output,
  flags: { dir: string; name?: string; backend?: BackendName },
  service: string | undefined,
): Promise<number> {
  return shell(await services(), { ...flags, service, tty: interactive() });
}
