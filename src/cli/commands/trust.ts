import { trust } from "../../core/trust.js";
import type { Output } from "../output.js";
import { interactive, services } from "./common.js";

// `prodlike trust [--uninstall]`: browsers and tools accept the router's certificates.
export default async function trustCommand(
  output: Output,
  flags: { uninstall: boolean; json: boolean },
): Promise<number> {
  const report = await trust(await services(), {
    uninstall: flags.uninstall,
    terminal: interactive() && !flags.json,
  });
  output.result("trust", { ...report }, () => {
    if (report.action === "nothing to uninstall") return "No router CA was installed by prodlike.";
    if (report.action === "uninstalled")
      return `Removed the router's CA (${report.caFile}) from the trust stores.`;
    return `The router's CA (${report.caFile}) is trusted by this machine and its browsers (restart a running browser). \`prodlike trust --uninstall\` removes it.`;
  });
  return 0;
}
