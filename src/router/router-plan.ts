import { environmentHost } from "../topology/hosts.js";
import { Label, parseRoutesLabel } from "../topology/labels.js";
import { byCodePoint } from "../ui/text-order.js";
import type { RouterSite } from "./caddy-config.js";

// What the router must serve, read off the containers the engine runs: every running
// container with a routes label, whichever checkout or state folder made it. The engine is
// the one record all prodlike processes on the machine share, so two `up`s from two
// projects never overwrite each other's routes.
//
// Labels are not trusted for more than that: anyone on the engine can start a container
// with any label. A route is served only for an environment prodlike recorded (its `up`
// made the owner record), from a container that says it is that environment's (project
// and name as recorded; compose's own project label for compose), and only for names
// under that environment's own host (ENV.PROJECT.localhost and names below it, which is
// where mirrored Ingress hosts are mapped): never a name outside `.localhost`, never a
// neighbour's. A name two claim stays with the environment recorded first (within one
// environment, its oldest container).

/** An environment as its owner record has it (see environment-owners.ts). */
export interface RecordedEnvironment {
  project: string;
  name: string;
  /** ISO 8601: of two claims on one host name, the first recorded keeps it. */
  createdAt: string;
}

/** A container as the plan needs it (the engine adapter's ContainerInfo fits). */
export interface RoutableContainer {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
  networks: string[];
  /** `container:ID` when it shares another container's network namespace. */
  networkMode?: string;
  /** Epoch ms: within one environment, the older container keeps a name. */
  createdAt?: number;
}

/** A cluster environment's routes: no container of its own carries a label, so the router
 *  keeps them (in its volume) with the node container they dial. Routes that dial a
 *  listener on this machine instead (an existing cluster's port-forwards, on the router
 *  network's gateway) name the router's own container, as the dashboard's do, so a
 *  prodlike of before keeps them while the router runs; `onThisMachine` lets them count
 *  before the router's first start too (their own names bring it about). */
export interface ExternalRoutes {
  container: string;
  network: string;
  sites: RouterSite[];
  onThisMachine?: boolean | undefined;
}

/** Where the router reaches a server on this machine: the router network's gateway. */
export interface RouterDoor {
  gateway: string;
  network: string;
  /** The router's container (what such routes name, see ExternalRoutes). */
  container: string;
}

/** The dashboard's name on the router (`prodlike dashboard` while the router runs). It
 *  never keeps the router running by itself: it comes with the router, not the other
 *  way round (and a dashboard killed without stopping leaves its route behind). */
export const DASHBOARD_HOST = "prodlike.localhost";

/** The dashboard's route is kept as `prodlike-dashboard-UID` beside cluster environments'. */
export const DASHBOARD_ROUTE_PREFIX = "prodlike-dashboard-";

export interface RouterPlan {
  sites: RouterSite[];
  /** The networks the router must be attached to, to dial those containers. */
  networks: string[];
  /** Host names two environments both claim: the first recorded keeps it. */
  conflicts: { host: string; kept: string; dropped: string }[];
  /** Each environment's routed host names, for status and ls. */
  hostsByEnv: Map<string, string[]>;
}

export function routerPlan(
  containers: readonly RoutableContainer[],
  options: {
    /** Environments being removed (their routes go first, then their containers). */
    leaving?: ReadonlySet<string> | undefined;
    /** Cluster environments' routes, by environment id. */
    external?: Readonly<Record<string, ExternalRoutes>> | undefined;
    /** The environments prodlike recorded, by id: only theirs are routed. */
    recorded: ReadonlyMap<string, RecordedEnvironment>;
    /** Sleeping environments, by id: their names go to their owner's waker meanwhile. */
    asleep?: Readonly<Record<string, { hosts: string[]; dial: string; network: string }>>;
  },
): RouterPlan {
  const { recorded } = options;
  const byId = new Map(containers.map((container) => [container.id, container]));
  const firstRecorded = (a: string, b: string) =>
    byCodePoint(recorded.get(a)?.createdAt ?? "", recorded.get(b)?.createdAt ?? "") ||
    byCodePoint(a, b);
  const routed = containers
    .filter((container) => container.state === "running" && container.labels[Label.routes])
    .filter((container) => !options.leaving?.has(container.labels[Label.env] ?? ""))
    .filter((container) => isEnvironmentsOwn(container, recorded))
    .sort(
      (a, b) =>
        firstRecorded(a.labels[Label.env] ?? "", b.labels[Label.env] ?? "") ||
        (a.createdAt ?? 0) - (b.createdAt ?? 0),
    );
  const sites: RouterSite[] = [];
  const networks = new Set<string>();
  const owners = new Map<string, string>();
  const conflicts: RouterPlan["conflicts"] = [];
  const hostsByEnv = new Map<string, string[]>();
  const claim = (envId: string, site: RouterSite, network: string) => {
    const owner = owners.get(site.host);
    if (owner !== undefined) {
      if (owner !== envId) conflicts.push({ host: site.host, kept: owner, dropped: envId });
      return;
    }
    owners.set(site.host, envId);
    networks.add(network);
    sites.push(site);
    hostsByEnv.set(envId, [...(hostsByEnv.get(envId) ?? []), site.host]);
  };
  for (const container of routed) {
    const envId = container.labels[Label.env] ?? "";
    const environment = recorded.get(envId);
    // A pod's sidecar answers on its owner's network, under the owner's name.
    const reachable = networkOwner(container, byId);
    const network = reachable.networks[0];
    if (!network || !environment) continue;
    for (const route of parseRoutesLabel(container.labels[Label.routes])) {
      if (!isUnder(route.host, environment)) continue;
      claim(envId, { host: route.host, dial: `${reachable.name}:${route.port}` }, network);
    }
  }
  const running = new Set(
    containers.filter((container) => container.state === "running").map((c) => c.name),
  );
  const clusters = Object.keys(options.external ?? {}).sort(firstRecorded);
  for (const envId of clusters) {
    const external = options.external?.[envId];
    const environment = recorded.get(envId);
    if (!external || options.leaving?.has(envId)) continue;
    if (!external.onThisMachine && !running.has(external.container)) continue;
    // A user's dashboard is no environment: it has its one name and nothing else.
    if (envId.startsWith(DASHBOARD_ROUTE_PREFIX)) {
      for (const site of external.sites) {
        if (site.host === DASHBOARD_HOST) claim(envId, site, external.network);
      }
      continue;
    }
    if (!environment) continue;
    for (const site of external.sites) {
      if (isUnder(site.host, environment)) claim(envId, site, external.network);
    }
  }
  // Names no running container serves: a sleeping environment's, while it sleeps.
  for (const envId of Object.keys(options.asleep ?? {}).sort(firstRecorded)) {
    const asleep = options.asleep?.[envId];
    const environment = recorded.get(envId);
    if (!asleep || !environment || options.leaving?.has(envId) || hostsByEnv.has(envId)) continue;
    for (const host of asleep.hosts) {
      if (isUnder(host, environment)) {
        claim(envId, { host, dial: asleep.dial }, asleep.network);
      }
    }
  }
  return { sites, networks: [...networks].sort(), conflicts, hostsByEnv };
}

// A container of a recorded environment, saying so the way prodlike labels its own.
function isEnvironmentsOwn(
  container: RoutableContainer,
  recorded: ReadonlyMap<string, RecordedEnvironment>,
): boolean {
  const envId = container.labels[Label.env] ?? "";
  const environment = recorded.get(envId);
  if (!environment) return false;
  if (container.labels[Label.project] !== environment.project) return false;
  if (container.labels[Label.name] !== environment.name) return false;
  return (
    container.labels[Label.backend] !== "compose" ||
    container.labels["com.docker.compose.project"] === envId
  );
}

/** The environment's own host, or a name below it: always a `.localhost` name. */
export function isUnder(host: string, environment: RecordedEnvironment): boolean {
  const base = environmentHost(environment);
  return host === base || host.endsWith(`.${base}`);
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
