import type { BackendName, EnvironmentStatus } from "../backends/backend.js";
import type { SleepRecord } from "../backends/docker/sleep-records.js";
import { backendInfo, DEFAULT_BACKEND } from "../config/backend-registry.js";
import { acquireEnvironmentLock, type HeldLock } from "../env/lock.js";
import type { Progress } from "../ui/steps.js";
import { byCodePoint } from "../ui/text-order.js";
import type { HookContext, HookEvent, HookRun } from "./hooks.js";
import { resolveTarget, type TargetOptions } from "./plan.js";
import { addRouterUrls, openRouterIfEnabled, routerStateOf } from "./router.js";
import type { CoreServices } from "./services.js";

// What every operation on an environment starts from: which one and on which backend,
// its lock, the project's hooks, and the list of all of them. Below the operations
// themselves (operations, db-operations, seed, files, gc), which all import it.

export interface EnvRequest extends TargetOptions {
  backend?: BackendName | undefined;
  /** How long a change waits for another prodlike working on the environment. */
  lockTimeoutMs?: number | undefined;
  /** `--no-hooks`: the project's own steps (prodlike.yaml `hooks:`) are skipped. */
  noHooks?: boolean | undefined;
  /** `--force`: the owner's own environment, though another checkout made it. */
  force?: boolean | undefined;
}

/** The project's hooks for one event, unless the request says --no-hooks. */
export async function projectHooks(
  services: CoreServices,
  event: HookEvent,
  request: { noHooks?: boolean | undefined },
  context: Omit<HookContext, "runner">,
  progress: Progress,
): Promise<HookRun[]> {
  if (request.noHooks || !context.config.hooks?.[event]?.length) return [];
  const { runHooks } = await import("./hooks.js");
  return runHooks(event, { ...context, runner: services.runner }, progress);
}

/** How long a change waits on another one by default: an `up` with builds takes minutes. */
export const DEFAULT_LOCK_TIMEOUT_MS = 600_000;

// Every operation that changes an environment's data or existence holds its lock: two
// imports, an import and a destroy, an up and a restore never interleave. The one that
// comes second waits, naming what it waits for, or fails with ENV_BUSY.
export async function lockEnvironment(
  services: CoreServices,
  envId: string,
  operation: string,
  request: { lockTimeoutMs?: number | undefined },
  progress?: Progress,
): Promise<HeldLock> {
  return acquireEnvironmentLock(envId, {
    dir: services.stores.folder("locks"),
    timeoutMs: request.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    clock: services.clock,
    operation,
    onWait: (holder) =>
      progress?.info(
        `Waiting for another prodlike (${holder.operation ?? "working"}, pid ${holder.pid}) on ${envId}…`,
      ),
  });
}

/** Runs `work` holding the environment's lock. */
export async function whileLocked<T>(
  services: CoreServices,
  envId: string,
  operation: string,
  request: { lockTimeoutMs?: number | undefined },
  progress: Progress | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await lockEnvironment(services, envId, operation, request, progress);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

// Which backend an environment is on: the one asked for, else the one it already runs on
// (cluster environments are recorded; compose ones are found by label), else the
// project's prodlike.yaml, else compose.
export async function chooseBackend(
  services: CoreServices,
  explicit: BackendName | undefined,
  envId: string,
  configured?: BackendName | undefined,
): Promise<BackendName> {
  if (explicit) return explicit;
  return (await services.recordedBackend(envId)) ?? configured ?? DEFAULT_BACKEND;
}

export async function backendFor(services: CoreServices, request: EnvRequest) {
  // Every backend's preflight pings the engine: the ping leaves now, while the project is
  // read, and the preflight finds it answered (one engine round trip off `status`). Its
  // failure is the preflight's to report, with its error.
  services
    .engine()
    .then((engine) => engine.ping())
    .catch(() => undefined);
  const target = await resolveTarget(services, request);
  const name = await chooseBackend(
    services,
    request.backend,
    target.identity.id,
    target.loaded.config.backend,
  );
  return { target, identity: target.identity, backend: await services.backend(name) };
}

/** Adds each environment's lifetime (`up --ttl`), `keep` and sleep where it has them: a
 *  stopped environment that sleeps is `sleeping`. */
export async function withExpiry(
  services: CoreServices,
  environments: EnvironmentStatus[],
): Promise<EnvironmentStatus[]> {
  return withLifetimes(await lifetimeRecords(services), environments);
}

/** What withExpiry adds, read on its own: `status` starts these reads beside the
 *  engine's listing instead of after it (one engine round trip less). */
export async function lifetimeRecords(services: CoreServices) {
  const [expiries, kept, sleeping] = await Promise.all([
    services.stores.expiry().then((store) => store.all()),
    services.stores.kept().then((store) => store.all()),
    sleepRecords(services),
  ]);
  return { expiries, kept, sleeping };
}

export type LifetimeRecords = Awaited<ReturnType<typeof lifetimeRecords>>;

export function withLifetimes(
  { expiries, kept, sleeping }: LifetimeRecords,
  environments: EnvironmentStatus[],
): EnvironmentStatus[] {
  return environments.map((environment) => {
    const expiry = expiries.get(environment.id);
    const asleep = sleeping.get(environment.id);
    return {
      ...environment,
      ...(expiry ? { expiresAt: expiry.expiresAt } : {}),
      ...(kept.has(environment.id) ? { kept: true } : {}),
      ...(asleep && environment.state === "stopped"
        ? { state: "sleeping" as const, sleeping: { since: asleep.since, reason: asleep.reason } }
        : {}),
    };
  });
}

/** The sleep records on the engine (none when it cannot be reached: nothing sleeps there). */
export async function sleepRecords(services: CoreServices): Promise<Map<string, SleepRecord>> {
  const { SleepRecords } = await import("../backends/docker/sleep-records.js");
  try {
    return await new SleepRecords(await services.engine()).all();
  } catch {
    return new Map();
  }
}

// Every environment on this machine: compose ones by label, cluster ones from their
// records. A backend that cannot answer here (no kind binary) does not hide the others.
// The backends and the router are opened first, then the listings and the router's state
// asked for in the same moment: the engine adapter answers those identical questions
// with one query, however many environments there are.
export async function list(
  services: CoreServices,
  backend: BackendName | undefined,
): Promise<EnvironmentStatus[]> {
  const names = backend
    ? new Set<BackendName>([backend])
    : new Set<BackendName>([DEFAULT_BACKEND, ...(await services.recordedBackends())]);
  const lenient = (name: BackendName) =>
    !backend && !(name === DEFAULT_BACKEND && names.size === 1);
  const [backends, router] = await Promise.all([
    Promise.all(
      [...names].map(async (name) => {
        try {
          return { name, opened: await services.backend(name) };
        } catch (error) {
          if (!lenient(name)) throw error;
          return undefined;
        }
      }),
    ),
    openRouterIfEnabled(services).catch(() => undefined),
  ]);
  const [lists, routerState] = await Promise.all([
    Promise.all(
      backends.map(async (entry) => {
        try {
          return (await entry?.opened.list()) ?? [];
        } catch (error) {
          if (!entry || !lenient(entry.name)) throw error;
          return [];
        }
      }),
    ),
    routerStateOf(
      router,
      [...names].some((name) => backendInfo(name).routes === "handed-over"),
    ),
  ]);
  return addRouterUrls(
    await withExpiry(
      services,
      lists.flat().sort((a, b) => byCodePoint(a.id, b.id)),
    ),
    routerState,
  );
}

/** A command's ENV argument: an id from `prodlike ls` (its own checkout and name), else an
 *  environment name of this project (as `--name`). */
export async function namedEnvironment<R extends EnvRequest>(
  services: CoreServices,
  request: R,
  env: string | undefined,
): Promise<R> {
  if (env === undefined) return request;
  const byId = (await list(services, request.backend)).find((found) => found.id === env);
  return byId ? { ...request, dir: byId.codeRoot, name: byId.name } : { ...request, name: env };
}
