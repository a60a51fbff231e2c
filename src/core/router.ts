import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Backend, EnvironmentStatus } from "../backends/backend.js";
import type { LocalRouter, RouterState } from "../backends/router/local-router.js";
import { backendInfo } from "../config/backend-registry.js";
import { stateDir } from "../config/user-settings.js";
import { isProdlikeError } from "../errors/prodlike-error.js";
import type { RouterPorts } from "../router/caddy-config.js";
import { environmentHost } from "../topology/hosts.js";
import type { Progress } from "../ui/steps.js";
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

export function routerEnabled(env: NodeJS.ProcessEnv): boolean {
  return !["off", "0", "false", "no"].includes((env.PRODLIKE_ROUTER ?? "").toLowerCase());
}

// Loaded on first use: `status` and `ls` start without the image builder behind it.
export async function openRouter(services: CoreServices): Promise<LocalRouter> {
  const { LocalRouter, parsePortChoices } = await import("../backends/router/local-router.js");
  return new LocalRouter({
    runner: services.runner,
    engine: await services.engine(),
    clock: services.clock,
    portChoices: parsePortChoices(services.env.PRODLIKE_ROUTER_PORTS),
  });
}

/** The router made to serve what runs now (without `leaving`'s routes, nor those of any
 *  environment another prodlike is removing: routing it again would attach the router to
 *  a network its destroy is about to remove). Failures are warnings: the environment
 *  itself is up, or is being removed, either way. */
export async function syncRouter(
  services: CoreServices,
  progress: Progress,
  options: { leaving?: string; cluster?: { envId: string; backend: Backend } } = {},
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
  for (const host of [...hosts].sort((a, b) => a.length - b.length || a.localeCompare(b))) {
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
  if (!routerEnabled(services.env) || environments.length === 0) return environments;
  let state: RouterState;
  try {
    state = await (await openRouter(services)).state({
      clusters: environments.some(
        (environment) => backendInfo(environment.backend).routes === "handed-over",
      ),
    });
  } catch {
    return environments;
  }
  return environments.map((environment) => ({
    ...environment,
    urls: { ...environment.urls, ...routedUrls(environment, state) },
  }));
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
  return path.join(stateDir(services.env), "router");
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

/** The record `prodlike trust` leaves: the fingerprint of the certificate it installed. */
export function trustRecordFile(services: CoreServices): string {
  return path.join(routerStateDir(services), "trusted");
}

export async function certificateFingerprint(caFile: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(caFile))
    .digest("hex");
}

/** Whether `prodlike trust` installed the CA last exported here: two local files read,
 *  no call into the router (status stays quick). */
export async function trustRecorded(services: CoreServices): Promise<boolean> {
  return isTrusted(services, routerCaFile(services));
}

async function isTrusted(services: CoreServices, caFile: string): Promise<boolean> {
  try {
    const recorded = (await readFile(trustRecordFile(services), "utf8")).trim();
    return recorded === (await certificateFingerprint(caFile));
  } catch {
    return false;
  }
}
