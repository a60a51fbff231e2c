import { stateDir } from "../config/user-settings.js";
import type { CoreServices } from "../core/services.js";
import { type RunningDashboard, startDashboard } from "./server.js";
import { dashboardToken } from "./token.js";

// `prodlike dashboard`: the user's token (made once, 0600), the server on 127.0.0.1, the
// browser opened on request. Runs until the caller closes it.

export interface DashboardRequest {
  /** 0: a free port. */
  port: number;
  open: boolean;
}

export async function openDashboard(
  services: CoreServices,
  request: DashboardRequest,
): Promise<RunningDashboard> {
  const token = await dashboardToken(stateDir(services.env));
  const dashboard = await startDashboard(services, { port: request.port, token });
  if (request.open) {
    const { openInBrowser } = await import("../core/mail.js");
    await openInBrowser(services, dashboard.url).catch(async (error: unknown) => {
      await dashboard.close();
      throw error;
    });
  }
  return dashboard;
}
