import type { BackendName } from "../../backends/backend.js";
import { down } from "../../core/operations.js";
import { formatStatus } from "../format.js";
import type { Output } from "../output.js";
import { lockTimeoutMs, services } from "./common.js";

export default async function downCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    backend?: BackendName;
    lockTimeout?: string;
    force?: boolean;
  },
): Promise<number> {
  const status = await down(
    await services(),
    { ...flags, lockTimeoutMs: lockTimeoutMs(flags) },
    await output.progress(),
  );
  output.result("down", { environment: status }, () => formatStatus(status, output.colour));
  return 0;
}
