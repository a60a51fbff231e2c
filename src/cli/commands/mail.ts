import type { BackendName } from "../../backends/backend.js";
import { mailCatcher, openInBrowser } from "../../core/mail.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// `prodlike mail [--open]`: the mail catcher's page (and its API, for scripts).
export default async function mailCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName; open: boolean },
): Promise<number> {
  const core = await services();
  const catcher = await mailCatcher(core, flags);
  if (flags.open) await openInBrowser(core, catcher.url);
  output.result("mail", { ...catcher }, () =>
    [
      `Mail sent by ${catcher.id} is caught here (none leaves this machine):`,
      `  ${output.colour.cyan(catcher.url)}`,
      `  API: ${catcher.api}`,
    ].join("\n"),
  );
  return 0;
}
