import type { BackendName } from "../../backends/backend.js";
import { XDEBUG_DEFAULT_PORT, xdebug } from "../../core/xdebug.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// `prodlike xdebug on|off|status`: step debugging switched without a rebuild.
export default async function xdebugCommand(
  output: Output,
  flags: {
    dir: string;
    name?: string;
    backend?: BackendName;
    port?: string;
    host?: string;
    everyRequest: boolean;
  },
  action: string,
): Promise<number> {
  if (action !== "on" && action !== "off" && action !== "status") {
    throw new ProdlikeError("USAGE", `xdebug takes on, off or status, not \`${action}\``);
  }
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new ProdlikeError("USAGE", `--port must be a port number, got ${flags.port}`);
  }
  const report = await xdebug(
    await services(),
    { ...flags, action, port, host: flags.host, everyRequest: flags.everyRequest },
    await output.progress(),
  );
  output.result("xdebug", { ...report }, () => {
    const on = report.services.filter((service) => service.enabled).map((service) => service.name);
    if (on.length === 0) return `Xdebug is off in ${report.id}.`;
    const where = report.settings
      ? ` It connects to ${report.settings.host}:${report.settings.port} ${report.settings.everyRequest ? "on every request" : "when a request has XDEBUG_TRIGGER (cookie, GET or POST)"}; listen there in your IDE (port ${XDEBUG_DEFAULT_PORT} is the usual one).`
      : "";
    return `Xdebug is on in ${on.join(", ")}.${where}`;
  });
  return 0;
}
