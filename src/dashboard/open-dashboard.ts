import { stateDir } from "../config/user-settings.js";
import { dashboardRoute, routeDashboardTo } from "../core/router.js";
import type { CoreServices } from "../core/services.js";
import { isProdlikeError } from "../errors/prodlike-error.js";
import { DASHBOARD_ROUTE_PREFIX } from "../router/router-plan.js";
import { SilentProgress } from "../ui/plain-progress.js";
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
}

export interface OpenDashboard {
  dashboard: RunningDashboard;
  /** The URL to open, with the token. */
  url: string;
  /** https://prodlike.localhost/?token=…, when the router serves it. */
  routedUrl?: string;
  /** Why the router does not serve it, when it runs but could not. */
  routeWarning?: string;
  close(): Promise<void>;
}

export async function openDashboard(
  services: CoreServices,
  request: DashboardRequest,
): Promise<OpenDashboard> {
  const token = await dashboardToken(stateDir(services.env));
  const dashboard = await startDashboard(services, { port: request.port, token });
  const routed = await throughRouter(services, dashboard, token);
  const opened: OpenDashboard = {
    dashboard,
    url: dashboard.url,
    ...routed.result,
    async close() {
      if (routed.result.routedUrl) {
        await routeDashboardTo(services, undefined, new SilentProgress()).catch(() => undefined);
      }
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

async function throughRouter(
  services: CoreServices,
  dashboard: RunningDashboard,
  token: string,
): Promise<{ result: { routedUrl?: string; routeWarning?: string } }> {
  const route = await dashboardRoute(services);
  if (!route) return { result: {} };
  try {
    const dial = await dashboard.serveRouted(route);
    const state = await routeDashboardTo(services, dial, new SilentProgress());
    // Nothing else to route: the router went away rather than run for the dashboard alone.
    if (!state?.running) return { result: {} };
    const taken = state?.conflicts.find((conflict) => conflict.host === route.host.split(":")[0]);
    if (taken && taken.kept !== `${DASHBOARD_ROUTE_PREFIX}${process.getuid?.() ?? "user"}`) {
      return { result: { routeWarning: `${route.url} is another user's dashboard` } };
    }
    return { result: { routedUrl: `${route.url}?token=${token}` } };
  } catch (error) {
    const reason = isProdlikeError(error) || error instanceof Error ? error.message : String(error);
    return { result: { routeWarning: `Not served through the local router: ${reason}` } };
  }
}
