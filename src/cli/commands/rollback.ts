import type { BackendName } from "../../backends/backend.js";
import { rollback } from "../../core/operations.js";
import { formatStatus } from "../format.js";
import type { Output } from "../output.js";
import { lockTimeoutMs, secondsFlag, services } from "./common.js";

// `prodlike rollback`: back to the images and configuration before the last `up` that
// changed them, on the same data.
export default async function rollbackCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    backend?: BackendName;
    healthTimeout?: string;
    lockTimeout?: string;
  },
): Promise<number> {
  const status = await rollback(
    await services(),
    {
      ...flags,
      healthTimeoutMs: secondsFlag(flags.healthTimeout ?? "300", "--health-timeout"),
      lockTimeoutMs: lockTimeoutMs(flags),
    },
    await output.progress(),
  );
  output.result("rollback", { urls: status.urls, environment: status }, () =>
    [
      "Back on the previous release (the data kept); `prodlike rollback` again goes forward.",
      formatStatus(status, output.colour),
    ].join("\n"),
  );
  return 0;
}
