import { Label, parseRoutesLabel } from "../topology/labels.js";
import type { RouterSite } from "./caddy-config.js";

// What the router must serve, read off the containers the engine runs: every running
// container with a routes label, whichever checkout or state folder made it. The engine is
// the one record all prodlike processes on the machine share, so two `up`s from two
// projects never overwrite each other's routes.

/** A container as the plan needs it (the engine adapter's ContainerInfo fits). */
export interface RoutableContainer {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
  networks: string[];
  /** `container:ID` when it shares another container's network namespace. */
  networkMode?: string;
}

/** A cluster environment's routes: no container of its own carries a label, so the router
 *  keeps them (in its volume) with the node container they dial. */
export interface ExternalRoutes {
  container: string;
  network: string;
  sites: RouterSite[];
}

/** The dashboard's name on the router (`prodlike dashboard` while the router runs). It
 *  never keeps the router running by itself: it comes with the router, not the other
 *  way round (and a dashboard killed without stopping leaves its route behind). */
export const DASHBOARD_HOST = "prodlike.localhost";

export interface RouterPlan {
  sites: RouterSite[];
  /** The networks the router must be attached to, to dial those containers. */
  networks: string[];
  /** Host names two environments both claim: the first environment (by id) keeps it. */
  conflicts: { host: string; kept: string; dropped: string }[];
  /** Each environment's routed host names, for status and ls. */
  hostsByEnv: Map<string, string[]>;
}

export function routerPlan(
  containers: readonly RoutableContainer[],
  options: {
    leaving?: string | undefined;
    /** Cluster environments' routes, by environment id. */
    external?: Readonly<Record<string, ExternalRoutes>> | undefined;
  } = {},
): RouterPlan {
  const byId = new Map(containers.map((container) => [container.id, container]));
  const routed = containers
    .filter((container) => container.state === "running" && container.labels[Label.routes])
    .filter((container) => container.labels[Label.env] !== options.leaving)
    .sort((a, b) => (a.labels[Label.env] ?? "").localeCompare(b.labels[Label.env] ?? ""));
  const sites: RouterSite[] = [];
  const networks = new Set<string>();
  const owners = new Map<string, string>();
  const conflicts: RouterPlan["conflicts"] = [];
  const hostsByEnv = new Map<string, string[]>();
  for (const container of routed) {
    const envId = container.labels[Label.env] ?? container.name;
    // A pod's sidecar answers on its owner's network, under the owner's name.
    const reachable = networkOwner(container, byId);
    const network = reachable.networks[0];
    if (!network) continue;
    for (const route of parseRoutesLabel(container.labels[Label.routes])) {
      const owner = owners.get(route.host);
      if (owner !== undefined) {
        if (owner !== envId) conflicts.push({ host: route.host, kept: owner, dropped: envId });
        continue;
      }
      owners.set(route.host, envId);
      networks.add(network);
      sites.push({ host: route.host, dial: `${reachable.name}:${route.port}` });
      hostsByEnv.set(envId, [...(hostsByEnv.get(envId) ?? []), route.host]);
    }
  }
  const running = new Set(
    containers.filter((container) => container.state === "running").map((c) => c.name),
  );
  for (const [envId, external] of Object.entries(options.external ?? {}).sort()) {
    if (envId === options.leaving || !running.has(external.container)) continue;
    for (const site of external.sites) {
      const owner = owners.get(site.host);
      if (owner !== undefined) {
        if (owner !== envId) conflicts.push({ host: site.host, kept: owner, dropped: envId });
        continue;
      }
      owners.set(site.host, envId);
      networks.add(external.network);
      sites.push(site);
      hostsByEnv.set(envId, [...(hostsByEnv.get(envId) ?? []), site.host]);
    }
  }
  return { sites, networks: [...networks].sort(), conflicts, hostsByEnv };
}

function networkOwner(
  container: RoutableContainer,
  byId: Map<string, RoutableContainer>,
): RoutableContainer {
  const shared = /^container:(.+)$/.exec(container.networkMode ?? "")?.[1];
  if (!shared) return container;
  const owner =
    byId.get(shared) ?? [...byId.values()].find((candidate) => candidate.name === shared);
  return owner ?? container;
}
