import { dashboardRoute, readRouterState, routeDashboardTo } from "../core/router.js";
import type { CoreServices } from "../core/services.js";
import { isProdlikeError } from "../errors/prodlike-error.js";
import { DASHBOARD_HOST, DASHBOARD_ROUTE_PREFIX } from "../router/router-plan.js";
import { SilentProgress } from "../ui/plain-progress.js";
import type { RunningDashboard } from "./server.js";

// Keeps the dashboard at https://prodlike.localhost while the local router runs: the
// router may start after the dashboard (the first `up`), be replaced (another prodlike's
// image) or come back on another network; every CHECK_MS the dashboard looks whether the
// router still sends its name to it, and when not, listens on the router network's
// gateway again and hands the router its route. One router state read when all is well.

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
    const current = await readRouterState(this.services, true);
    if (current?.hostsByEnv.get(this.routeId)?.includes(DASHBOARD_HOST) && this.state.routedUrl) {
      return { routedUrl };
    }
    const dial = await this.dashboard.serveRouted(route);
    const state = await routeDashboardTo(this.services, dial, new SilentProgress());
    // Nothing else to route: the router went away rather than run for the dashboard alone.
    if (!state?.running) return {};
    if (state.hostsByEnv.get(this.routeId)?.includes(DASHBOARD_HOST)) return { routedUrl };
    const holder = state.conflicts.find((conflict) => conflict.host === DASHBOARD_HOST)?.kept;
    return { routeWarning: `${route.url} is ${holder ?? "another"} dashboard's (another user's)` };
  }
}
