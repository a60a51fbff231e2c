import { ProdlikeError } from "../errors/prodlike-error.js";
import type { EnvRequest } from "./environments.js";
import { status } from "./operations.js";
import type { CoreServices } from "./services.js";

// `prodlike mail`: where the environment's mail catcher shows what the app sent. Through
// the local router when it serves the environment (https://mail.ENV.PROJECT.localhost),
// else its 127.0.0.1 port; the Mailpit-shaped API beside it for scripts.

export interface MailCatcher {
  id: string;
  url: string;
  direct: string;
  api: string;
}

export async function mailCatcher(
  services: CoreServices,
  request: EnvRequest,
): Promise<MailCatcher> {
  const found = await status(services, request);
  const direct = found.urls.mail;
  if (!direct) {
    throw new ProdlikeError("SERVICE_NOT_FOUND", `Environment ${found.id} has no mail catcher`, {
      hint: "Presets have a `mail` service; a mirrored layout (up --mirror) has none of its own.",
    });
  }
  const url = found.urls["https:mail"] ?? direct;
  return { id: found.id, url, direct, api: `${direct.replace(/\/+$/, "")}/api/v1/messages` };
}

/** Opens a URL in the desktop's browser (xdg-open, open on macOS). */
export async function openInBrowser(services: CoreServices, url: string): Promise<void> {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const result = await services.runner.run(opener, [url]);
  if (result.notFound || result.exitCode !== 0) {
    throw new ProdlikeError("TOOL_MISSING", `Could not open a browser (${opener})`, {
      hint: `Open ${url} yourself.`,
    });
  }
}
