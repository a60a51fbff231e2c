import type { BackendName } from "../../backends/backend.js";
import { list } from "../../core/environments.js";
import { formatList } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function lsCommand(
  output: Output,
  flags: { backend?: BackendName },
): Promise<number> {
  const environments = await list(await services(), flags.backend);
  output.result("ls", { environments }, () => formatList(environments, output.colour));
  return 0;
}
