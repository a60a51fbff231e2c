import type { BackendName } from "../../backends/backend.js";
import { destroy } from "../../core/operations.js";
import { describeRemoved } from "../format.js";
import type { Output } from "../output.js";
import { hookFlags, lockTimeoutMs, services } from "./common.js";

export default async function destroyCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    backend?: BackendName;
    keepImages: boolean;
    keepSnapshots: boolean;
    lockTimeout?: string;
    hooks?: boolean;
    force?: boolean;
  },
): Promise<number> {
  const report = await destroy(
    await services(),
    { ...flags, lockTimeoutMs: lockTimeoutMs(flags), ...hookFlags(flags) },
    await output.progress(),
  );
  output.result("destroy", { removed: report }, () =>
    [`Destroyed ${report.id}:`, `  ${describeRemoved(report)}`].join("\n"),
  );
  return 0;
}
