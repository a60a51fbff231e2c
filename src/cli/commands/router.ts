import { routerStatus, stopRouter } from "../../core/router.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// `prodlike router status|stop`: the local router every environment shares.
export async function statusCommand(output: Output): Promise<number> {
  const report = await routerStatus(await services());
  output.result("router status", { ...report }, () => {
    if (!report.enabled) return "The local router is off (PRODLIKE_ROUTER=off).";
    if (!report.running) {
      return "The local router is not running: it starts with the first `prodlike up`.";
    }
    const ports = report.ports;
    const lines = [
      `Local router: running on 127.0.0.1, http ${ports?.http ?? "?"}, https ${ports?.https ?? "?"}`,
      `  CA     ${report.caFile ?? "(not made yet)"} ${
        report.trusted
          ? output.colour.green("(trusted)")
          : output.colour.yellow("(not trusted: run `prodlike trust` once)")
      }`,
      "",
    ];
    const width = Math.max(0, ...report.routes.map((route) => route.url.length));
    for (const route of report.routes) lines.push(`  ${route.url.padEnd(width)}  ${route.env}`);
    for (const conflict of report.conflicts) {
      lines.push(
        output.colour.yellow(
          `  ${conflict.host}: claimed by ${conflict.kept} and ${conflict.dropped}; served for ${conflict.kept}`,
        ),
      );
    }
    return lines.join("\n");
  });
  return 0;
}

export async function stopCommand(output: Output, flags: { purge: boolean }): Promise<number> {
  const report = await stopRouter(await services(), { purge: flags.purge });
  output.result("router stop", { ...report }, () =>
    report.removed.length === 0
      ? "The local router was not running."
      : `Removed ${report.removed.join(", ")}. Environments keep their 127.0.0.1 ports; the next \`prodlike up\` starts the router again.`,
  );
  return 0;
}
