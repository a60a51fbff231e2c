import type { BackendName } from "../../backends/backend.js";
import { status } from "../../core/operations.js";
import { formatStatus } from "../format.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function statusCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName },
): Promise<number> {
  const found = await status(await services(), flags);
  output.result("status", { urls: found.urls, environment: found }, () =>
    formatStatus(found, output.colour),
  );
  return 0;
}
