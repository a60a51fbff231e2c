import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Backend, EnvironmentStatus } from "../backends/backend.js";
import type { LocalRouter, RouterState } from "../backends/router/local-router.js";
import { backendInfo } from "../config/backend-registry.js";
import { isProdlikeError } from "../errors/prodlike-error.js";
import { sha256Hex } from "../process/crypto-on-demand.js";
import type { BasicAuth, RouterPorts } from "../router/caddy-config.js";
import { DASHBOARD_HOST, DASHBOARD_ROUTE_PREFIX } from "../router/router-plan.js";
import { environmentHost } from "../topology/hosts.js";
import type { Progress } from "../ui/steps.js";
import { byCodePoint } from "../ui/text-order.js";
import { routerEnabled } from "./router-switch.js";
import type { CoreServices } from "./services.js";

// The local router as the operations use it: brought in line with the running
// environments after `up`, `down` and before a removal, one prodlike process at a time
// across the whole machine (every state folder shares the one engine and the one router).
// A router that cannot start costs the named hosts, never the environment: `up` warns and
// the 127.0.0.1 URLs keep working.

const ROUTER_LOCK_TIMEOUT_MS = 300_000;
/** A holder past this counts for nothing, even if its process hangs on (a first start
 *  builds the router's image: minutes at most). */
const ROUTER_LOCK_TTL_MS = 30 * 60_000;

export { routerEnabled };

// Loaded on first use: `status` and `ls` start without the image builder behind it.
export async function openRouter(services: CoreServices): Promise<LocalRouter> {
  const { LocalRouter } = await import("../backends/router/local-router.js");
  return LocalRouter.withPortsOf(services.env, {
    runner: services.runner,
    engine: await services.engine(),
    clock: services.clock,
  });
}

/** The router made to serve what runs now (without `leaving`'s routes, nor those of any
 *  environment another prodlike is removing: routing it again would attach the router to
 *  a network its destroy is about to remove). Failures are warnings: the environment
 *  itself is up, or is being removed, either way. */
export async function syncRouter(
  services: CoreServices,
  progress: Progress,
  options: {
    leaving?: string;
    cluster?: { envId: string; backend: Backend };
    /** An environment locked (its credentials) or unlocked (undefined). */
    lock?: { envId: string; auth: BasicAuth | undefined };
  } = {},
): Promise<RouterState | undefined> {
  if (!routerEnabled(services.env)) return undefined;
  try {
    return await whileRouterLocked(services, progress, async () => {
      const [router, leaving] = await Promise.all([
        openRouter(services),
        leavingEnvironments(services),
      ]);
      if (options.leaving) leaving.add(options.leaving);
      // Compose environments' routes are labels on their containers; a cluster's are
      // handed over here.
      const cluster =
        options.cluster && backendInfo(options.cluster.backend.name).routes === "handed-over"
          ? {
              envId: options.cluster.envId,
              routes: await options.cluster.backend.routeTargets(options.cluster.envId),
            }
          : undefined;
      let state: RouterState | undefined;
      await progress.run([
        {
          title: options.leaving ? "Local router: routes removed" : "Local router: routes",
          run: async (context) => {
            state = await router.sync({
              leaving,
              ...(cluster ? { cluster } : {}),
              ...(options.lock ? { lock: options.lock } : {}),
              onDetail: (text) => context.update(text),
            });
            if (!state.running) context.setTitle("Local router: nothing left to route, removed");
          },
        },
      ]);
      for (const conflict of state?.conflicts ?? []) {
        progress.warn(
          `${conflict.host} is claimed by ${conflict.kept} and ${conflict.dropped}; the router sends it to ${conflict.kept}.`,
        );
      }
      return state;
    });
  } catch (error) {
    if (!isProdlikeError(error)) throw error;
    progress.warn(
      `Named hosts are not served: ${error.message}.${error.hint ? ` ${error.hint}` : ""}`,
    );
    return undefined;
  }
}

/** The environments some prodlike of the machine is removing now. */
async function leavingEnvironments(services: CoreServices): Promise<Set<string>> {
  const { machineClaims } = await import("./machine.js");
  const claims = await (await machineClaims(services)).others("leaving");
  return new Set(claims.map((claim) => claim.envId));
}

/** Marks `envId` as being removed for every prodlike of the machine while `work` runs. */
export async function whileLeaving<T>(
  services: CoreServices,
  envId: string,
  work: () => Promise<T>,
): Promise<T> {
  const { machineClaims } = await import("./machine.js");
  const claims = await machineClaims(services);
  const claim = await claims.make("leaving", { envId, ttlMs: 30 * 60_000 });
  try {
    return await work();
  } finally {
    await claims.release(claim);
  }
}

// One prodlike at a time, of every user of the engine, kept with the engine itself (see
// machine-lock.ts): never a folder in /tmp another local user could make first.
/**
 * Brings the router in line as soon as the environment's routed services run, while the
 * backend still waits for their health (seconds): the sync after `up` then finds nothing
 * to change, and the router's work (attaching a network, loading routes) is off the path
 * a user waits on. Quiet: the sync after `up` reports what there is to report.
 */
export function syncWhileStarting(
  services: CoreServices,
  envId: string,
  routedServices: ReadonlySet<string>,
): { done(): Promise<void> } {
  if (!routerEnabled(services.env) || routedServices.size === 0) {
    return { done: async () => undefined };
  }
  let stopped = false;
  const running = (async () => {
    const [engine, { Label }, { SilentProgress }] = await Promise.all([
      services.engine(),
      import("../topology/labels.js"),
      import("../ui/plain-progress.js"),
    ]);
    while (!stopped) {
      const containers = await engine.listContainers({ [Label.env]: envId });
      const up = new Set(
        containers
          .filter((container) => container.state === "running")
          .map((container) => container.labels[Label.service]),
      );
      if ([...routedServices].every((service) => up.has(service))) {
        await syncRouter(services, new SilentProgress());
        return;
      }
      await services.clock.sleep(150);
    }
  })().catch(() => undefined);
  return {
    async done() {
      stopped = true;
      await running;
    },
  };
}

export async function whileRouterLocked<T>(
  services: CoreServices,
  progress: Progress | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const [{ acquireMachineLock }, { machineClaims }] = await Promise.all([
    import("../backends/docker/machine-lock.js"),
    import("./machine.js"),
  ]);
  const lock = await acquireMachineLock(await machineClaims(services), "router", {
    timeoutMs: ROUTER_LOCK_TIMEOUT_MS,
    ttlMs: ROUTER_LOCK_TTL_MS,
    clock: services.clock,
    what: "The local router",
    onWait: (holder) =>
      progress?.info(
        `Waiting for another prodlike (pid ${holder.pid}, uid ${holder.uid}) on the local router…`,
      ),
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** The URLs the router serves an environment at, added to its own: `https` for its main
 *  host, `https:LABELS` for the others (`https:mail`, `https:admin.shop`). */
export function routedUrls(
  environment: Pick<EnvironmentStatus, "id" | "name" | "project">,
  state: RouterState,
): Record<string, string> {
  const hosts = state.running && state.ports ? state.hostsByEnv.get(environment.id) : undefined;
  if (!hosts || !state.ports) return {};
  const base = environmentHost(environment);
  const urls: Record<string, string> = {};
  for (const host of [...hosts].sort((a, b) => a.length - b.length || byCodePoint(a, b))) {
    const key = host === base ? "https" : `https:${host.slice(0, -base.length - 1)}`;
    urls[key] = routerUrl("https", host, state.ports);
  }
  return urls;
}

export function routerUrl(scheme: "http" | "https", host: string, ports: RouterPorts): string {
  const port = ports[scheme];
  const standard = scheme === "https" ? 443 : 80;
  return `${scheme}://${host}${port === standard ? "" : `:${port}`}/`;
}

/** Environments with the router's URLs added (status, ls, up). Reading the router never
 *  fails a listing: without an engine answer the 127.0.0.1 URLs are still right. */
export async function withRouterUrls(
  services: CoreServices,
  environments: EnvironmentStatus[],
): Promise<EnvironmentStatus[]> {
  if (environments.length === 0) return environments;
  const clusters = environments.some(
    (environment) => backendInfo(environment.backend).routes === "handed-over",
  );
  return addRouterUrls(environments, await readRouterState(services, clusters));
}

/** The router's state, for URLs added later (status reads it beside the environment);
 *  undefined when the router is off or cannot be read. */
export async function readRouterState(
  services: CoreServices,
  clusters: boolean,
): Promise<RouterState | undefined> {
  return routerStateOf(await openRouterIfEnabled(services), clusters);
}

/** The router when it is on (its module loaded), so reading its state starts at once. */
export async function openRouterIfEnabled(
  services: CoreServices,
): Promise<LocalRouter | undefined> {
  return routerEnabled(services.env) ? openRouter(services) : undefined;
}

/** Its state, or undefined when there is no router or it cannot be read. */
export async function routerStateOf(
  router: LocalRouter | undefined,
  clusters: boolean,
): Promise<RouterState | undefined> {
  try {
    return await router?.state({ clusters });
  } catch {
    return undefined;
  }
}

export function addRouterUrls<T extends EnvironmentStatus>(
  environments: T[],
  state: RouterState | undefined,
): T[] {
  if (!state) return environments;
  return environments.map((environment) => ({
    ...environment,
    urls: { ...environment.urls, ...routedUrls(environment, state) },
  }));
}

/** Where the router can reach a server of this user: its network's gateway, when it runs;
 *  with the URL and the Host and Origin a browser will send through it. */
export async function dashboardRoute(
  services: CoreServices,
): Promise<{ gateway: string; url: string; host: string; origin: string } | undefined> {
  if (!routerEnabled(services.env)) return undefined;
  try {
    const router = await openRouter(services);
    const state = await router.state();
    if (!state.running || !state.ports) return undefined;
    const gateway = await router.gateway();
    if (!gateway) return undefined;
    const url = routerUrl("https", DASHBOARD_HOST, state.ports);
    const origin = url.replace(/\/$/, "");
    return { gateway, url, host: origin.replace(/^https:\/\//, ""), origin };
  } catch {
    return undefined;
  }
}

/** Sends https://prodlike.localhost to `dial` (the dashboard on the router's network), or
 *  with none, stops sending it. One route per user: of two live dashboards the one kept
 *  first keeps the name (the router says which); a kept route whose dashboard no longer
 *  answers (killed without stopping) is dropped on the way. */
export async function routeDashboardTo(
  services: CoreServices,
  dial: string | undefined,
  progress: Progress,
): Promise<RouterState | undefined> {
  const routeId = `${DASHBOARD_ROUTE_PREFIX}${process.getuid?.() ?? "user"}`;
  return whileRouterLocked(services, progress, async () => {
    const router = await openRouter(services);
    const { ROUTER_NAME } = await import("../backends/router/local-router.js");
    const others = Object.entries(await router.keptRoutes()).filter(
      ([id]) => id.startsWith(DASHBOARD_ROUTE_PREFIX) && id !== routeId,
    );
    const gone = await Promise.all(
      others.map(async ([id, routes]) =>
        (await Promise.all(routes.sites.map((site) => answers(site.dial)))).some(Boolean)
          ? []
          : [id],
      ),
    );
    return router.sync({
      ...(dial
        ? {
            cluster: {
              envId: routeId,
              routes: {
                container: ROUTER_NAME,
                network: ROUTER_NAME,
                sites: [{ host: DASHBOARD_HOST, dial }],
              },
            },
          }
        : { leaving: new Set([routeId]) }),
      forget: gone.flat(),
    });
  });
}

/** Whether something accepts a TCP connection at HOST:PORT within half a second (a
 *  dashboard listens on this machine's address on the router's network). */
async function answers(dial: string): Promise<boolean> {
  const { connect } = await import("node:net");
  const [host, port] = [
    dial.slice(0, dial.lastIndexOf(":")),
    Number(dial.slice(dial.lastIndexOf(":") + 1)),
  ];
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 500 });
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

export interface RouterReport {
  enabled: boolean;
  running: boolean;
  ports?: RouterPorts;
  /** Every routed host, with its environment and URL. */
  routes: { host: string; env: string; url: string }[];
  /** The CA's root certificate exported here, when the router runs. */
  caFile?: string;
  /** `prodlike trust` installed this CA (as far as this machine's record says). */
  trusted: boolean;
  conflicts: RouterState["conflicts"];
}

/** `prodlike router status`. */
export async function routerStatus(services: CoreServices): Promise<RouterReport> {
  const enabled = routerEnabled(services.env);
  const router = await openRouter(services);
  const state = await router.state();
  const routes = [...state.hostsByEnv].flatMap(([env, hosts]) =>
    hosts.map((host) => ({
      host,
      env,
      url: state.ports ? routerUrl("https", host, state.ports) : "",
    })),
  );
  const caFile = state.running ? await exportRootCertificate(services, router) : undefined;
  return {
    enabled,
    running: state.running,
    ...(state.ports ? { ports: state.ports } : {}),
    routes,
    ...(caFile ? { caFile } : {}),
    trusted: caFile ? await isTrusted(services, caFile) : false,
    conflicts: state.conflicts,
  };
}

/** `prodlike router stop [--purge]`: the environments keep running on their own ports;
 *  the next `up` starts the router again. --purge drops the CA (browsers must trust the
 *  new one). */
export async function stopRouter(
  services: CoreServices,
  options: { purge: boolean },
): Promise<{ removed: string[] }> {
  return whileRouterLocked(services, undefined, async () => {
    const removed = await (await openRouter(services)).remove(options);
    if (options.purge) await rm(routerStateDir(services), { recursive: true, force: true });
    return { removed };
  });
}

/** Where prodlike keeps the router CA's certificate (and the record of its trust). */
export function routerStateDir(services: CoreServices): string {
  return services.stores.folder("router");
}

/** Where the CA's root certificate is exported: rootCA.pem, mkcert's name for it, so
 *  CAROOT can point at its folder. */
export function routerCaFile(services: CoreServices): string {
  return path.join(routerStateDir(services), "ca", "rootCA.pem");
}

/** The CA's root certificate written to routerCaFile; its path. */
export async function exportRootCertificate(
  services: CoreServices,
  router: LocalRouter,
): Promise<string> {
  const pem = await router.rootCertificate();
  const file = routerCaFile(services);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, pem, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  return file;
}

/** The record `prodlike trust` leaves: the certificate it installed (records written
 *  before hold its SHA-256 fingerprint instead). */
export function trustRecordFile(services: CoreServices): string {
  return path.join(routerStateDir(services), "trusted");
}

/** Whether `prodlike trust` installed the CA last exported here: two local files read,
 *  no call into the router (status stays quick). */
export async function trustRecorded(services: CoreServices): Promise<boolean> {
  return isTrusted(services, routerCaFile(services));
}

async function isTrusted(services: CoreServices, caFile: string): Promise<boolean> {
  try {
    const [recorded, current] = await Promise.all([
      readFile(trustRecordFile(services), "utf8"),
      readFile(caFile, "utf8"),
    ]);
    if (recorded === current) return true;
    // A record from before holds the fingerprint: hashing loads node:crypto, only then.
    const fingerprint = recorded.trim();
    return /^[0-9a-f]{64}$/.test(fingerprint) && fingerprint === (await sha256Hex(current));
  } catch {
    return false;
  }
}
