import { request as httpsRequest } from "node:https";
import { dashboardRoute, routeDashboardTo } from "../core/router.js";
import type { CoreServices } from "../core/services.js";
import { isProdlikeError } from "../errors/prodlike-error.js";
import { DASHBOARD_HOST, DASHBOARD_ROUTE_PREFIX } from "../router/router-plan.js";
import { SilentProgress } from "../ui/plain-progress.js";
import { INSTANCE_HEADER, type RunningDashboard } from "./server.js";

// Keeps the dashboard at https://prodlike.localhost while the local router runs: the
// router may start after the dashboard (the first `up`), be replaced (another prodlike's
// image, its configuration loaded by an older prodlike) or come back on another network;
// every CHECK_MS the dashboard asks through the router whether the name still reaches it,
// and when not, listens on the router network's gateway again and hands the router its
// route. One request through the router when all is well.

const CHECK_MS = 10_000;

export interface RouterLinkState {
  /** https://prodlike.localhost[:PORT]/?token=…, while the router serves it. */
  routedUrl?: string;
  /** Why the router does not serve it although it runs. */
  routeWarning?: string;
}

export class RouterLink {
  state: RouterLinkState = {};
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private readonly routeId = `${DASHBOARD_ROUTE_PREFIX}${process.getuid?.() ?? "user"}`;

  constructor(
    private readonly services: CoreServices,
    private readonly dashboard: RunningDashboard,
    private readonly token: string,
    private readonly onChange: (state: RouterLinkState) => void = () => undefined,
  ) {}

  /** The first check now, then one every CHECK_MS. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => {
      this.checking = this.checking.then(() => this.check());
    }, CHECK_MS);
    this.timer.unref();
  }

  /** Stops checking and takes the route back (the router stays for the environments). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    if (this.state.routedUrl) {
      await routeDashboardTo(this.services, undefined, new SilentProgress()).catch(() => undefined);
    }
  }

  private async check(): Promise<void> {
    const next = await this.linked().catch((error: unknown) => ({
      routeWarning: `Not served through the local router: ${
        isProdlikeError(error) || error instanceof Error ? error.message : String(error)
      }`,
    }));
    if (JSON.stringify(next) === JSON.stringify(this.state)) return;
    this.state = next;
    this.onChange(next);
  }

  private async linked(): Promise<RouterLinkState> {
    const route = await dashboardRoute(this.services);
    if (!route) return {};
    const routedUrl = `${route.url}?token=${this.token}`;
    // Asked of the router itself: another prodlike's sync may have loaded a configuration
    // without the name (an older version), whatever the kept routes say.
    if (this.state.routedUrl && (await this.answersThrough(route.url))) return { routedUrl };
    const dial = await this.dashboard.serveRouted(route);
    const state = await routeDashboardTo(this.services, dial, new SilentProgress());
    // Nothing else to route: the router went away rather than run for the dashboard alone.
    if (!state?.running) return {};
    if (state.hostsByEnv.get(this.routeId)?.includes(DASHBOARD_HOST)) return { routedUrl };
    const holder = state.conflicts.find((conflict) => conflict.host === DASHBOARD_HOST)?.kept;
    return { routeWarning: `${route.url} is ${holder ?? "another"} dashboard's (another user's)` };
  }

  // A request through the router (to this machine's loopback, the name as the browser
  // sends it) that this dashboard answers: no token sent, so a 401 with its id is the
  // answer hoped for. The certificate is not what is checked here.
  private answersThrough(url: string): Promise<boolean> {
    const target = new URL(url);
    return new Promise((resolve) => {
      const sent = httpsRequest(
        {
          host: "127.0.0.1",
          port: target.port || 443,
          path: "/",
          servername: target.hostname,
          headers: { Host: target.host },
          rejectUnauthorized: false,
          timeout: 2000,
        },
        (response) => {
          response.resume();
          resolve(response.headers[INSTANCE_HEADER.toLowerCase()] === this.dashboard.instance);
        },
      );
      sent.on("timeout", () => sent.destroy());
      sent.on("error", () => resolve(false));
      sent.end();
    });
  }
}
