import type { CoreServices } from "../core/services.js";
import { RouterLink, type RouterLinkState } from "./router-link.js";
import { type RunningDashboard, startDashboard } from "./server.js";
import { dashboardToken } from "./token.js";

// `prodlike dashboard`: the user's token (made once, 0600), the server on 127.0.0.1, and
// when the local router runs, https://prodlike.localhost too: the server also listens on
// the router network's gateway (the one address the router's container reaches this
// machine on; the same token and guard apply) and the router sends the name there until
// the dashboard stops. The browser opened on request. Runs until the caller closes it.

export interface DashboardRequest {
  /** 0: a free port. */
  port: number;
  open: boolean;
  /** Told when the router starts or stops serving the dashboard after it started. */
  onRouteChange?: (state: RouterLinkState) => void;
}

export interface OpenDashboard extends RouterLinkState {
  dashboard: RunningDashboard;
  /** The URL to open, with the token. */
  url: string;
  close(): Promise<void>;
}

export async function openDashboard(
  services: CoreServices,
  request: DashboardRequest,
): Promise<OpenDashboard> {
  const token = await dashboardToken(services.stores.dir);
  const dashboard = await startDashboard(services, { port: request.port, token });
  let started = false;
  const link = new RouterLink(services, dashboard, token, (state) => {
    if (started) request.onRouteChange?.(state);
  });
  await link.start();
  started = true;
  const opened: OpenDashboard = {
    dashboard,
    url: dashboard.url,
    ...link.state,
    async close() {
      await link.close();
      await dashboard.close();
    },
  };
  if (request.open) {
    const { openInBrowser } = await import("../core/mail.js");
    await openInBrowser(services, opened.routedUrl ?? opened.url).catch(async (error: unknown) => {
      await opened.close();
      throw error;
    });
  }
  return opened;
}
