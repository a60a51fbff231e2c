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
    data?: boolean;
    to?: string;
  },
): Promise<number> {
  const status = await rollback(
    await services(),
    {
      ...flags,
      data: flags.data === true,
      healthTimeoutMs: secondsFlag(flags.healthTimeout ?? "300", "--health-timeout"),
      lockTimeoutMs: lockTimeoutMs(flags),
    },
    await output.progress(),
  );
  const { data, ...environment } = status;
  output.result(
    "rollback",
    { urls: environment.urls, environment, ...(data ? { data } : {}) },
    () =>
      [
        data
          ? `Back on the previous release and its data (snapshot ${data.restored}); the data left is kept as ${data.saved}, and \`prodlike rollback --data\` again goes forward.`
          : "Back on the previous release (the data kept); `prodlike rollback` again goes forward.",
        formatStatus(environment, output.colour),
      ].join("\n"),
  );
  return 0;
}
