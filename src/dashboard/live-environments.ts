import { type ContainerEvent, RECONNECTED } from "../backends/docker/docker-engine.js";
import { list } from "../core/environments.js";
import { type EnvironmentOverview, environmentDetails, sharedRecords } from "../core/overview.js";
import type { CoreServices } from "../core/services.js";
import { Label } from "../topology/labels.js";

// The environments as the page sees them, kept current from the engine's event stream:
// a container event (created, started, died, health changed, destroyed) asks for one new
// listing (one engine query, whatever the number of environments) a moment later, so a
// burst of events from one `up` costs one listing. The details of an environment (its
// snapshots, releases, mail) are read again only when it had an event, an operation on
// it ended, or (for the mail count) every 15 s. A cluster's pods send no engine events:
// while cluster environments exist, the listing is read every 5 s as well.

export const SETTLE_MS = 250;
const TICK_MS = 5_000;
const MAIL_EVERY_TICKS = 3;

export type LiveChange =
  | { type: "environment"; environment: EnvironmentOverview }
  | { type: "removed"; id: string };

export class LiveEnvironments {
  private current = new Map<string, EnvironmentOverview>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private readonly stop = new AbortController();
  private mailTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: CoreServices,
    private readonly onChange: (change: LiveChange) => void,
  ) {}

  /** Reads everything once, then follows the engine. */
  async start(): Promise<void> {
    const engine = await this.services.engine();
    // Unreachable: the typed DOCKER_UNAVAILABLE, before anything is listened to.
    await engine.ping();
    await engine.watchContainers({ [Label.managed]: "true" }, this.stop.signal, (event) =>
      this.onEngineEvent(event),
    );
    await this.refresh(true);
    let tick = 0;
    this.mailTimer = setInterval(() => {
      tick += 1;
      const mail = tick % MAIL_EVERY_TICKS === 0 ? this.withMail() : [];
      const clusters = this.all().some((environment) => environment.backend !== "compose");
      if (mail.length > 0 || clusters) this.refreshSoon(mail);
    }, TICK_MS);
    this.mailTimer.unref();
  }

  close(): void {
    this.stop.abort();
    if (this.timer) clearTimeout(this.timer);
    if (this.mailTimer) clearInterval(this.mailTimer);
  }

  all(): EnvironmentOverview[] {
    return [...this.current.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): EnvironmentOverview | undefined {
    return this.current.get(id);
  }

  /** Reads the listing again soon, and the details of these environments. */
  refreshSoon(ids: Iterable<string> = []): void {
    for (const id of ids) this.dirty.add(id);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.refreshing = this.refreshing.then(() => this.refresh(false)).catch(() => undefined);
    }, SETTLE_MS);
  }

  /** Resolves once the refreshes asked for so far are done (tests, the operation end). */
  async settled(): Promise<void> {
    while (this.timer) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    await this.refreshing;
  }

  private onEngineEvent(event: ContainerEvent): void {
    // exec_* events come from health checks every few seconds: nothing a listing shows.
    if (event.action.startsWith("exec_")) return;
    // The engine restarted: anything may have changed meanwhile.
    if (event.action === RECONNECTED) {
      this.refreshSoon(this.all().map((environment) => environment.id));
      return;
    }
    const envId = event.labels[Label.env];
    this.refreshSoon(envId ? [envId] : []);
  }

  private withMail(): string[] {
    return this.all()
      .filter((environment) => environment.urls.mail && environment.state !== "stopped")
      .map((environment) => environment.id);
  }

  private async refresh(everything: boolean): Promise<void> {
    const listed = await list(this.services, undefined);
    const ids = new Set(listed.map((environment) => environment.id));
    const records = await sharedRecords(this.services);
    const next = new Map<string, EnvironmentOverview>();
    await Promise.all(
      listed.map(async (environment) => {
        const known = this.current.get(environment.id);
        const fresh = everything || !known || this.dirty.has(environment.id);
        const details = fresh
          ? await environmentDetails(this.services, environment, records)
          : { ...detailsOf(known), ...ownerOf(records.owners.get(environment.id)) };
        next.set(environment.id, { ...environment, ...details });
      }),
    );
    this.dirty.clear();
    const previous = this.current;
    this.current = next;
    for (const [id, environment] of next) {
      if (JSON.stringify(previous.get(id)) !== JSON.stringify(environment))
        this.onChange({ type: "environment", environment });
    }
    for (const id of previous.keys()) if (!ids.has(id)) this.onChange({ type: "removed", id });
  }
}

function ownerOf(owner: EnvironmentOverview["owner"]) {
  return owner ? { owner } : {};
}

function detailsOf(overview: EnvironmentOverview | undefined) {
  if (!overview) return { snapshots: [], releases: [] };
  const { snapshots, releases, data, xdebug, mail } = overview;
  return {
    snapshots,
    releases,
    ...(data ? { data } : {}),
    ...(xdebug !== undefined ? { xdebug } : {}),
    ...(mail ? { mail } : {}),
  };
}
