import os from "node:os";
import path from "node:path";
import type { EnvironmentStatus } from "../backends/backend.js";
import type { LocalRouter, RouterState } from "../backends/router/local-router.js";
import { acquireEnvironmentLock } from "../env/lock.js";
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

/** The router made to serve what runs now (without `leaving`'s routes). Failures are
 *  warnings: the environment itself is up, or is being removed, either way. */
export async function syncRouter(
  services: CoreServices,
  progress: Progress,
  options: { leaving?: string } = {},
): Promise<RouterState | undefined> {
  if (!routerEnabled(services.env)) return undefined;
  try {
    return await whileRouterLocked(services, progress, async () => {
      const router = await openRouter(services);
      let state: RouterState | undefined;
      await progress.run([
        {
          title: options.leaving ? "Local router: routes removed" : "Local router: routes",
          run: async (context) => {
            state = await router.sync({
              leaving: options.leaving,
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

export async function whileRouterLocked<T>(
  services: CoreServices,
  progress: Progress | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await acquireEnvironmentLock("router", {
    dir: routerLockDir(),
    timeoutMs: ROUTER_LOCK_TIMEOUT_MS,
    clock: services.clock,
    operation: "router sync",
    onWait: (holder) =>
      progress?.info(`Waiting for another prodlike (pid ${holder.pid}) on the local router…`),
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

// One lock per user for the whole machine, whatever PRODLIKE_HOME says.
function routerLockDir(): string {
  const uid = process.getuid?.() ?? "user";
  return path.join(os.tmpdir(), `prodlike-${uid}`);
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
    state = await (await openRouter(services)).state();
  } catch {
    return environments;
  }
  return environments.map((environment) => ({
    ...environment,
    urls: { ...environment.urls, ...routedUrls(environment, state) },
  }));
}
