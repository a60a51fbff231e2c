import type { BackendName } from "../../backends/backend.js";
import { lock, share } from "../../core/access.js";
import { namedEnvironment } from "../../core/environments.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// lock and share: who may open an environment besides this machine's browser.

interface AccessFlags {
  dir: string;
  name?: string;
  backend?: BackendName;
  off?: boolean;
  force?: boolean;
  address?: string;
  port?: string;
}

export async function lockCommand(output: Output, flags: AccessFlags, env?: string) {
  const core = await services();
  const report = await lock(
    core,
    { ...(await namedEnvironment(core, flags, env)), off: flags.off ?? false },
    await output.progress(),
  );
  output.result("lock", { lock: report }, () => describeLock(report));
  return 0;
}

export function describeLock(report: {
  envId: string;
  locked: boolean;
  username?: string;
  password?: string;
  credentialsFile?: string;
}): string {
  if (!report.locked)
    return `${report.envId} is unlocked: its router names answer anyone on this machine.`;
  const password = report.password
    ? `password ${report.password} (shown once; kept 0600 in ${report.credentialsFile})`
    : `the password in ${report.credentialsFile}`;
  return `${report.envId} is locked: user ${report.username}, ${password}.`;
}

export async function shareCommand(output: Output, flags: AccessFlags, env?: string) {
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new ProdlikeError("USAGE", `--port must be a port number, got ${flags.port}`);
  }
  const core = await services();
  const report = await share(
    core,
    {
      ...(await namedEnvironment(core, flags, env)),
      off: flags.off ?? false,
      address: flags.address,
      port,
    },
    await output.progress(),
  );
  output.result("share", { share: report }, () =>
    report.shared
      ? [
          `${report.envId} is shared on your network: ${report.url}`,
          `  user ${report.username}, password ${report.password}`,
          "  Plain HTTP: the password crosses the network unencrypted; share on networks you trust, and `prodlike share --off` when done.",
        ].join("\n")
      : `${report.envId} is no longer shared (it stays locked).`,
  );
  return 0;
}
