import type { BackendName } from "../../backends/backend.js";
import { up } from "../../core/operations.js";
import { formatStatus } from "../format.js";
import { secondsFlag } from "../main.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

interface UpFlags {
  dir: string;
  name?: string;
  backend?: BackendName;
  rebuild: boolean;
  healthTimeout: string;
  lockTimeout: string;
}

export default async function upCommand(output: Output, flags: UpFlags): Promise<number> {
  const started = Date.now();
  const result = await up(
    await services(),
    {
      dir: flags.dir,
      name: flags.name,
      backend: flags.backend,
      rebuild: flags.rebuild,
      healthTimeoutMs: secondsFlag(flags.healthTimeout, "--health-timeout"),
      lockTimeoutMs: secondsFlag(flags.lockTimeout, "--lock-timeout"),
    },
    await output.progress(),
  );
  output.result(
    "up",
    {
      changed: result.changed,
      urls: result.status.urls,
      environment: result.status,
      durationMs: Date.now() - started,
    },
    () =>
      `${result.changed ? "" : "Already up to date.\n"}${formatStatus(result.status, output.colour)}`,
  );
  return 0;
}
