import { access } from "node:fs/promises";
import path from "node:path";
import {
  type Backend,
  type BackendName,
  type DestroyReport,
  type EnvironmentStatus,
  environmentNotFound,
  type KeptRelease,
  type UpOptions,
  type UpResult,
} from "../backends/backend.js";
import { backendInfo } from "../config/backend-registry.js";
import { openUserSettings } from "../config/user-settings.js";
import type { DataOrigin } from "../db/data-origin.js";
import { pathExists } from "../env/generated-files.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { withArguments } from "../process/shell-line.js";
import { DEFAULT_ENV_NAME } from "../topology/identity.js";
import { parseTtl } from "../ui/duration.js";
import { redactDeep } from "../ui/redact.js";
import type { Progress } from "../ui/steps.js";
import type { LockReport } from "./access.js";
import {
  backendFor,
  chooseBackend,
  DEFAULT_LOCK_TIMEOUT_MS,
  type EnvRequest,
  lifetimeRecords,
  lockEnvironment,
  projectHooks,
  whileLocked,
  withExpiry,
  withLifetimes,
} from "./environments.js";
import type { HookRun } from "./hooks.js";
import type { InstallReport } from "./install.js";
import { upClaims } from "./machine.js";
import { claimOwnership, forgetOwnership, requireOwnership } from "./ownership.js";
import { planEnvironment, resolveTarget, type TargetOptions } from "./plan.js";
import {
  addRouterUrls,
  readRouterState,
  syncRouter,
  syncWhileStarting,
  trustRecorded,
  whileLeaving,
  withRouterUrls,
} from "./router.js";
import type { SeedReport } from "./seed.js";
import type { CoreServices } from "./services.js";

// The programmatic API behind every command. No argv, no printing of results, no exit:
// the CLI does that. Each operation takes its collaborators.

export interface UpRequest extends TargetOptions {
  noHooks?: boolean | undefined;
  /** Explicit `--backend`; otherwise where the environment runs, else prodlike.yaml. */
  backend?: BackendName | undefined;
  rebuild: boolean;
  healthTimeoutMs: number;
  lockTimeoutMs: number;
  /** `--ttl`: a lifetime from now for `gc`; `never` removes one; undefined keeps it. */
  ttl?: number | "never" | undefined;
  /** Takes over this user's environment from a checkout that was moved. */
  force?: boolean | undefined;
  /** `--seed-from ENV[:SNAPSHOT]`: a new environment starts from that one's data. */
  seedFrom?: string | undefined;
  /** `--mirror`: run production's layout instead of the preset. */
  mirror?: boolean | undefined;
  /** With --mirror: production's manifests (else where the last `prodlike mirror` read
   *  them, else mirror.from). */
  from?: string | undefined;
  /** `--rm-on-failure`: a new environment that fails to come up is removed (by default
   *  it stays, so its logs can say why). */
  removeOnFailure?: boolean | undefined;
  /** An existing cluster: the code baked into an image (`--bake`), of a git ref (`--ref`). */
  bake?: boolean | undefined;
  ref?: string | undefined;
  /** `--lock`: basic authentication on its router names (as prodlike.yaml `lock: true`). */
  lock?: boolean | undefined;
  /** `--idle`: asleep after this long without a request (as prodlike.yaml `idle:`);
   *  `never` removes it; undefined keeps prodlike.yaml's, else what was set before. */
  idle?: number | "never" | undefined;
}

// Desired state -> plan -> apply -> wait -> verify. A second run on a healthy environment
// changes nothing; a concurrent run waits on the environment's lock.
export async function up(
  services: CoreServices,
  request: UpRequest,
  progress: Progress,
): Promise<
  UpResult & {
    seeded?: SeedReport;
    hooks?: HookRun[];
    install?: InstallReport;
    application?: { present: false; entry: string | undefined };
    lock?: LockReport;
    /** Asleep after this long without a request (its waker watches it). */
    idleMs?: number;
  }
> {
  const target = await resolveTarget(services, request);
  const backend = await services.backend(
    await chooseBackend(
      services,
      request.backend,
      target.identity.id,
      target.loaded.config.backend,
    ),
  );
  const settings = await openUserSettings(services.env);
  const lock = await lockEnvironment(services, target.identity.id, "up", request, progress);
  let recordedNow = false;
  const machine = await upClaims(services, target.identity.id);
  try {
    recordedNow = (await claimOwnership(services, target, backend, request)).recorded;
    const before = await backend.status(target.identity.id);
    // Seeding replaces data, so it only ever applies to an environment this run creates.
    const isNew = before === undefined;
    const { installStateBefore, settleInstallState } = await import("./install.js");
    const plan = async (installed: boolean) =>
      (await planEnvironment(services, target, backend, settings, machine.ports, { installed }))
        .topology;
    // Both importers give the one model; the rest of `up` is the same for either.
    const topology = request.mirror
      ? await (await import("./mirror.js")).mirroredTopology(services, target, {
          ...request,
          backend,
          reservations: machine.ports,
        })
      : await plan(await installStateBefore(services, target, backend, before));
    // A remote cluster: where on it, and how the code gets there.
    if (backendInfo(backend.name).cluster?.code === "sent") {
      const { clusterPlacement } = await import("./cluster-placement.js");
      topology.placement = await clusterPlacement(services, target, request);
    } else if (request.bake || request.ref) {
      throw new ProdlikeError("USAGE", "--bake and --ref are for an existing cluster", {
        hint: "This backend mounts the checkout; `--backend cluster` bakes the code into an image.",
      });
    }
    // Claimed before the backend checks which exist: a destroy elsewhere keeps them.
    await machine.intendImages(topology);
    // A new environment seeded from a snapshot starts on it: its database volume is
    // layered on the snapshot's seed before the first start (else copied in after it).
    const layer =
      request.seedFrom && isNew
        ? await (await import("./seed.js")).layerSeed(
            services,
            {
              target,
              backend,
              topology,
              seedFrom: request.seedFrom,
              lockTimeoutMs: request.lockTimeoutMs,
            },
            progress,
          )
        : undefined;
    // An empty checkout (before the application is created): the services come up, the
    // page is not waited for, and the user is told how to create the application.
    const noApplication =
      topology.entry !== undefined &&
      !(await pathExists(path.join(target.loaded.codeRoot, topology.entry)));
    const { pruneReleaseData, releaseDataKeeper } = await import("./releases.js");
    const beforeSwitch = releaseDataKeeper(services, target, backend);
    const { releases: releaseSettings, health } = target.loaded.config;
    const options: UpOptions = {
      rebuild: request.rebuild,
      healthTimeoutMs: request.healthTimeoutMs,
      ...(releaseSettings?.keep !== undefined ? { keepReleases: releaseSettings.keep } : {}),
      webCheck: {
        requestTimeoutMs: secondsToMs(health?.requestTimeout),
        failAfterMs: secondsToMs(health?.failAfter),
        noApplication,
      },
    };
    let result: UpResult;
    let install: InstallReport | undefined;
    // The router learns of the routes while the backend waits for health (see router.ts).
    const early = syncWhileStarting(
      services,
      target.identity.id,
      new Set((topology.routes ?? []).map((route) => route.service)),
    );
    try {
      result = await backend
        .up(topology, progress, {
          ...options,
          ...(beforeSwitch ? { beforeSwitch } : {}),
        })
        .finally(() => early.done());
      install = await settleInstallState(services, backend, topology, plan, options, progress);
      if (noApplication) {
        const create = topology.commands?.create ? "`prodlike run create`" : "your framework";
        progress.info(
          `No application in the checkout yet (${topology.entry} is missing): create one with ${create}, then \`prodlike up\` waits for its page.`,
        );
      } else if (install && !install.installed) {
        progress.info(
          `The database is empty: the site is not installed yet. Install it with \`${install.command}\` (or pull data: \`prodlike db pull\`, \`prodlike db import\`).`,
        );
      }
    } catch (error) {
      if (isNew && request.removeOnFailure) {
        await removeEnvironment(
          services,
          backend,
          target.identity.id,
          { keepImages: true, keepSnapshots: false },
          progress,
          { codeRoot: target.loaded.codeRoot, name: target.identity.name },
        ).catch((removal: unknown) =>
          // The first failure is the one to fix; what could not be removed is said.
          progress.warn(
            `The environment could not be removed whole (${removal instanceof Error ? removal.message : String(removal)}): \`prodlike destroy${target.identity.name === DEFAULT_ENV_NAME ? "" : ` --name ${target.identity.name}`}\` finishes it.`,
          ),
        );
      } else if (isNew) {
        throw keptForDiagnosis(error, target.identity.name);
      }
      throw error;
    } finally {
      // Only the data of the release kept to go back to stays (a failed attempt's, or
      // the one pushed into the history, goes).
      if (!isNew && beforeSwitch) await pruneReleaseData(services, target, backend);
    }
    // Awake again (an `up` of a sleeping environment starts it).
    const { SleepRecords } = await import("../backends/docker/sleep-records.js");
    await new SleepRecords(await services.engine()).clear(target.identity.id);
    await syncRouter(services, progress, {
      cluster: { envId: target.identity.id, backend },
    });
    const lock =
      request.lock || target.loaded.config.lock
        ? await (await import("./access.js")).lockNames(services, target.identity.id, progress)
        : undefined;
    const idle =
      request.idle ??
      (target.loaded.config.idle ? parseTtl(target.loaded.config.idle, "idle") : undefined);
    const idleStore = await services.stores.idle();
    if (idle === "never") await idleStore.remove(target.identity.id);
    else if (idle !== undefined) await idleStore.set(target.identity.id, idle);
    const expiries = await services.stores.expiry();
    if (request.ttl === "never") {
      await expiries.remove(target.identity.id);
      // A lifetime `prodlike ttl` wrote onto a team cluster's namespace (a merge patch)
      // is not the apply's to remove: cleared here, or everyone's gc would still see it.
      const { labelTeamLifetime } = await import("./team-lifetime.js");
      await labelTeamLifetime(services, target.identity.id);
    } else if (request.ttl !== undefined) {
      await expiries.set(target.identity.id, request.ttl, new Date(services.clock.now()));
    }
    let seeded: SeedReport | undefined;
    if (request.seedFrom) {
      const { seedEnvironment } = await import("./seed.js");
      seeded = await seedEnvironment(
        services,
        {
          target,
          backend,
          seedFrom: request.seedFrom,
          isNew,
          healthTimeoutMs: request.healthTimeoutMs,
          layer,
        },
        progress,
      );
    }
    const hooks = await projectHooks(
      services,
      "post-up",
      request,
      {
        config: target.loaded.config,
        backend,
        envId: target.identity.id,
        codeRoot: target.loaded.codeRoot,
        url: result.status.urls.web,
      },
      progress,
    );
    const [status] = await withRouterUrls(services, await withExpiry(services, [result.status]));
    return redactDeep(
      {
        ...result,
        ...(install ? { install } : {}),
        ...(noApplication ? { application: { present: false, entry: topology.entry } } : {}),
        status: status ?? result.status,
        ...(seeded ? { seeded } : {}),
        ...(hooks.length > 0 ? { hooks } : {}),
        ...(lock ? { lock } : {}),
        ...(await idleOf(services, target.identity.id)),
      },
      topology.secrets,
    );
  } catch (error) {
    // A new environment removed because it did not come up (--rm-on-failure): its record
    // goes with it, so no other checkout is refused an id nothing uses.
    if (recordedNow && (await backend.status(target.identity.id)) === undefined) {
      await forgetOwnership(services, target.identity.id);
    }
    throw error;
  } finally {
    await machine.release();
    await lock.release();
  }
}

export async function down(
  services: CoreServices,
  request: EnvRequest,
  progress: Progress,
): Promise<EnvironmentStatus> {
  const { identity, backend, target } = await backendFor(services, request);
  return whileLocked(services, identity.id, "down", request, progress, async () => {
    await requireOwnership(services, target, backend, request);
    const stopped = await backend.down(identity.id, progress);
    // Stopped by hand, not asleep: a request through the router does not start it.
    const { SleepRecords } = await import("../backends/docker/sleep-records.js");
    await new SleepRecords(await services.engine()).clear(identity.id);
    // A cluster scaled to zero has nothing behind its NodePorts: its names are dropped
    // until the next up (compose's stopped containers drop out by themselves).
    await syncRouter(
      services,
      progress,
      backendInfo(backend.name).routes === "labels" ? {} : { leaving: identity.id },
    );
    return stopped;
  });
}

/** `prodlike rollback`: the release before the last `up` that changed something; with
 *  `data`, its data too (the snapshot taken when it was replaced). */
export async function rollback(
  services: CoreServices,
  request: EnvRequest & { healthTimeoutMs: number; data: boolean; to?: string | undefined },
  progress: Progress,
): Promise<EnvironmentStatus & { data?: { restored: string; saved: string } }> {
  const { identity, backend, target } = await backendFor(services, request);
  return whileLocked(services, identity.id, "rollback", request, progress, async () => {
    await requireOwnership(services, target, backend, request);
    let data: { restored: string; saved: string } | undefined;
    let status: EnvironmentStatus;
    if (request.to && request.data) {
      // Only the release `up` replaced last has the data it left (older ones' went when
      // the next release was kept: a database copy per release would fill the disk).
      throw new ProdlikeError("USAGE", "--data goes back to the previous release only", {
        hint: "`prodlike rollback --to ID` goes back to an older release on the current data; `prodlike releases` lists them.",
      });
    }
    if (request.data) {
      const { rollbackWithData } = await import("./releases.js");
      const result = await rollbackWithData(services, target, backend, request, progress);
      ({ status } = result);
      data = { restored: result.restored, saved: result.saved };
    } else {
      status = await backend.rollback(identity.id, progress, {
        healthTimeoutMs: request.healthTimeoutMs,
        ...(request.to ? { to: request.to } : {}),
      });
    }
    await syncRouter(services, progress);
    const [withUrls = status] = await withRouterUrls(services, [status]);
    return { ...withUrls, ...(data ? { data } : {}) };
  });
}

/** `prodlike releases`: the releases kept to go back to. */
export async function releases(
  services: CoreServices,
  request: EnvRequest,
): Promise<{ id: string; releases: (KeptRelease & { id: string })[] }> {
  const { identity, backend } = await backendFor(services, request);
  return { id: identity.id, releases: await backend.releases(identity.id) };
}

export interface RemovalOptions {
  keepImages: boolean;
  keepSnapshots: boolean;
}

export type RemovalReport = DestroyReport & { id: string; snapshots: string[] };

export async function destroy(
  services: CoreServices,
  request: EnvRequest & RemovalOptions,
  progress: Progress,
): Promise<RemovalReport> {
  const { identity, backend, target } = await backendFor(services, request);
  return whileLocked(services, identity.id, "destroy", request, progress, async () => {
    await requireOwnership(services, target, backend, request);
    const running = await backend.status(identity.id);
    if (running?.state === "running") {
      await projectHooks(
        services,
        "pre-destroy",
        request,
        {
          config: target.loaded.config,
          backend,
          envId: identity.id,
          codeRoot: target.loaded.codeRoot,
          url: running.urls.web,
        },
        progress,
      );
    }
    return removeEnvironment(services, backend, identity.id, request, progress, {
      codeRoot: target.loaded.codeRoot,
      name: identity.name,
    });
  });
}

// Everything of one environment, found by its id: what the backend made, and what
// prodlike keeps for it (snapshots, data origin, lifetime, port reservations, the
// generated files under .prodlike/NAME/ when the code root is known). Shared by destroy
// and gc. What an earlier, killed destroy left is removed too; only an environment of
// which nothing at all is left is ENV_NOT_FOUND.
export async function removeEnvironment(
  services: CoreServices,
  backend: Backend,
  envId: string,
  options: RemovalOptions,
  progress: Progress,
  checkout?: { codeRoot: string; name: string },
): Promise<RemovalReport> {
  // Noted before the backend removes .prodlike/NAME/, removed once no container holds them.
  const { mountpointsOf, removeMountpoints } = await import("../env/generated-files.js");
  const mountpoints = checkout ? await mountpointsOf(checkout.codeRoot, checkout.name) : [];
  // The router lets go of the environment's network first: a network with the router
  // still attached cannot be removed. Until the containers are gone, no other prodlike's
  // sync routes them again (the environment is marked as leaving for the machine).
  let report: DestroyReport | undefined;
  await whileLeaving(services, envId, async () => {
    await syncRouter(services, progress, { leaving: envId });
    // Its share listener too: it is attached to the environment's network.
    const { ShareListeners } = await import("../backends/router/share-listener.js");
    await new ShareListeners(services.runner, await services.engine()).stop(envId);
    try {
      report = await backend.destroy(envId, progress, { keepImages: options.keepImages });
    } catch (error) {
      if (!(error instanceof ProdlikeError && error.code === "ENV_NOT_FOUND")) throw error;
    }
  });
  // The seed it was layered on goes with its last user.
  if (backend.layeredSeeds) {
    const { whileSeedsLocked } = await import("./seed.js");
    await whileSeedsLocked(services, progress, () => backend.removeUnusedSeeds());
  }
  // Snapshots belong to the environment: a throwaway environment leaves no disk behind.
  const [{ removeEnvironmentDir }, { removeVolumeCopy }] = await Promise.all([
    import("../env/generated-files.js"),
    import("../files/volume-copy.js"),
  ]);
  if (checkout) await removeMountpoints(checkout.codeRoot, mountpoints);
  const leftFiles = checkout ? await removeEnvironmentDir(checkout.codeRoot, checkout.name) : false;
  await (await services.stores.dataOrigin(envId)).remove();
  // files pull's own copy of a volume's files (OpenMage's media/).
  await removeVolumeCopy(services.stores.dir, envId);
  await (await services.stores.expiry()).remove(envId);
  await (await services.stores.kept()).remove(envId);
  await (await services.stores.idle()).remove(envId);
  // Its lock's credentials (the router drops the lock once it is unrecorded).
  await (await services.stores.credentials()).remove(envId);
  await (await services.stores.xdebug()).remove(envId);
  await (await services.stores.installStates()).remove(envId);
  const snapshots = options.keepSnapshots
    ? []
    : await (await services.stores.snapshots(envId)).removeAll();
  await forgetOwnership(services, envId);
  if (!report && !leftFiles && snapshots.length === 0) throw environmentNotFound(envId);
  return {
    id: envId,
    ...(report ?? { containers: [], volumes: [], networks: [], images: [] }),
    snapshots,
  };
}

export async function status(
  services: CoreServices,
  request: EnvRequest,
): Promise<
  EnvironmentStatus & { data?: DataOrigin; filesProxy?: string; router?: { trusted: boolean } }
> {
  const { identity, backend, target } = await backendFor(services, request);
  // The router's state, the lifetimes and the trust record are read beside the
  // environment's own: the engine's queries all leave at once. (Started before the
  // project is read, they only slowed its reading: the work is the process's, not the
  // engine's.)
  const [found, data, routerState, lifetimes, trusted] = await Promise.all([
    backend.status(identity.id),
    services.stores.dataOrigin(identity.id).then((origin) => origin.read()),
    readRouterState(services, backend.name !== "compose"),
    lifetimeRecords(services),
    trustRecorded(services),
  ]);
  if (!found) throw environmentNotFound(identity.id);
  const [withLifetime = found] = addRouterUrls(withLifetimes(lifetimes, [found]), routerState);
  // files.proxy: missing user files come from production's public URL (see files-proxy).
  const filesProxy = target.loaded.config.files?.proxy;
  // Browsers refuse the https names until the router's CA is trusted: status says so.
  const router = withLifetime.urls.https ? { trusted } : undefined;
  return {
    ...withLifetime,
    ...(data ? { data } : {}),
    ...(filesProxy ? { filesProxy } : {}),
    ...(router ? { router } : {}),
  };
}

/** `cache purge`: every cache between the browser and the data, emptied. */
export async function purgeCaches(
  services: CoreServices,
  request: EnvRequest,
  progress: Progress,
): Promise<{ id: string; refreshed: string[] }> {
  const { identity, backend, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  const found = await backend.status(identity.id);
  if (!found) throw environmentNotFound(identity.id);
  const { refreshApplication } = await import("./app-refresh.js");
  const refreshed = await refreshApplication(services, backend, found, target, progress, {
    proxies: true,
  });
  return { id: identity.id, refreshed };
}

export interface ExecCommandRequest extends EnvRequest {
  service: string;
  command: string[];
  tty: boolean;
  workdir?: string;
}

export async function exec(services: CoreServices, request: ExecCommandRequest): Promise<number> {
  const { identity, backend } = await backendFor(services, request);
  return backend.exec(identity.id, {
    service: request.service,
    command: request.command,
    tty: request.tty,
    ...(request.workdir ? { workdir: request.workdir } : {}),
  });
}

/** Where `prodlike shell` opens without a service named: the command-line service, else
 *  the one running the application's code (OpenMage has no cli service). */
const SHELL_ROLES = ["cli", "php", "app"] as const;

export async function shell(
  services: CoreServices,
  request: EnvRequest & { service?: string | undefined; tty: boolean },
): Promise<number> {
  let service = request.service;
  if (service === undefined) {
    const { identity, backend } = await backendFor(services, request);
    const found = await backend.status(identity.id);
    if (!found) throw environmentNotFound(identity.id);
    service = SHELL_ROLES.flatMap((role) =>
      found.services.filter((candidate) => candidate.role === role),
    )[0]?.name;
    if (service === undefined) {
      throw new ProdlikeError("USAGE", `Which service of ${identity.id}?`, {
        hint: `prodlike shell SERVICE; its services: ${found.services.map((candidate) => candidate.name).join(", ")}.`,
      });
    }
  }
  return exec(services, { ...request, service, command: SHELL_COMMAND });
}

// A login shell: bash where the image has it, sh otherwise.
export const SHELL_COMMAND = [
  "sh",
  "-c",
  "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi",
];

export const DRUSH_PATH = "vendor/bin/drush";

// Runs the site-local drush (vendor/bin/drush of the mounted code) in the cli container.
export async function drush(
  services: CoreServices,
  request: EnvRequest & { args: string[]; tty: boolean },
): Promise<number> {
  const { loaded } = await resolveTarget(services, request);
  try {
    await access(path.join(loaded.codeRoot, DRUSH_PATH));
  } catch {
    throw new ProdlikeError(
      "TOOL_MISSING",
      `drush is not installed in this project (${DRUSH_PATH} is missing)`,
      {
        hint: "Install it as a project dependency: prodlike exec cli -- composer require drush/drush",
      },
    );
  }
  return exec(services, {
    ...request,
    service: "cli",
    command: [DRUSH_PATH, ...request.args],
  });
}

/** The commands `prodlike run` knows: the preset's (its installer), then prodlike.yaml's
 *  `commands:` (a project's command of the same name replaces the preset's). */
export async function projectCommands(
  services: CoreServices,
  request: TargetOptions,
): Promise<
  {
    name: string;
    service: string;
    run: string;
    description?: string | undefined;
    from: "preset" | "project";
  }[]
> {
  const { loaded } = await resolveTarget(services, request);
  const { loadPreset } = await import("../topology/preset-loader.js");
  const preset = await loadPreset(loaded.config.preset);
  const own = loaded.config.commands ?? {};
  return [
    ...Object.entries(preset.definition.commands)
      .filter(([name]) => !(name in own))
      .map(([name, command]) => ({ name, ...command, from: "preset" as const })),
    ...Object.entries(own).map(([name, command]) => ({
      name,
      ...command,
      from: "project" as const,
    })),
  ];
}

// `prodlike run NAME ARGS…`: the command's shell line in its service, the arguments after
// it as "$@" (quoted as given), the terminal attached; resolves the command's exit code.
// After the preset's installer succeeded, the environment follows the installed site
// (`up`: OpenMage's local.xml gets its install date; caches and URLs are refreshed).
export async function runProjectCommand(
  services: CoreServices,
  request: EnvRequest & {
    command: string;
    args: string[];
    tty: boolean;
    /** Where the steps after an install are shown. */
    progress?: () => Promise<Progress>;
  },
): Promise<number> {
  const commands = await projectCommands(services, request);
  const found = commands.find((candidate) => candidate.name === request.command);
  if (!found) {
    throw new ProdlikeError(
      "COMMAND_UNKNOWN",
      `No command \`${request.command}\` in prodlike.yaml or the preset`,
      {
        hint:
          commands.length > 0
            ? `Its commands: ${commands.map((command) => command.name).join(", ")}.`
            : 'Define one under `commands:` (e.g. uli: { service: cli, run: "drush uli" }).',
      },
    );
  }
  const exitCode = await exec(services, {
    ...request,
    service: found.service,
    command: ["sh", "-c", withArguments(found.run), `prodlike run ${found.name}`, ...request.args],
  });
  if (exitCode === 0 && found.from === "preset" && request.progress) {
    const { loaded } = await resolveTarget(services, request);
    const { loadPreset } = await import("../topology/preset-loader.js");
    const preset = (await loadPreset(loaded.config.preset)).definition;
    const installs = preset.install?.command === found.name;
    if (installs || preset.commands[found.name]?.upAfter) {
      const progress = await request.progress();
      // The environment follows what the command made: the application (its page is
      // waited for now), the installed site (its install state, then caches and URLs):
      // `up` does the first, the refresh the rest.
      const result = await up(
        services,
        {
          dir: request.dir,
          name: request.name,
          backend: request.backend,
          rebuild: false,
          healthTimeoutMs: DEFAULT_HEALTH_TIMEOUT_MS,
          lockTimeoutMs: request.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
          noHooks: true,
        },
        progress,
      );
      if (!installs) {
        // Nothing more to follow: the page answers (up waited for it).
      } else if (result.install?.installed) {
        const current = await backendFor(services, request);
        const status = await current.backend.status(current.identity.id);
        if (status) {
          const { refreshApplication } = await import("./app-refresh.js");
          await refreshApplication(services, current.backend, status, current.target, progress);
        }
      } else {
        progress.warn(
          `\`prodlike run ${found.name}\` ended with 0, but the database does not hold an installed site.`,
        );
      }
    }
  }
  return exitCode;
}

/** How long `up` waits for health when no flag says (as `--health-timeout`'s default). */
export const DEFAULT_HEALTH_TIMEOUT_MS = 300_000;

export async function logs(
  services: CoreServices,
  request: EnvRequest & { services: string[]; follow: boolean; tail: number; color: boolean },
): Promise<number> {
  const { identity, backend } = await backendFor(services, request);
  return backend.logs(identity.id, request.services, {
    follow: request.follow,
    tail: request.tail,
    color: request.color,
  });
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

// A new environment that did not come up stays as it is for its logs: the error says so,
// and how to remove it.
function keptForDiagnosis(error: unknown, name: string): unknown {
  if (!(error instanceof ProdlikeError)) return error;
  const remove = `prodlike destroy${name === DEFAULT_ENV_NAME ? "" : ` --name ${name}`}`;
  return new ProdlikeError(error.code, error.message, {
    cause: error.cause ?? error,
    hint: `${error.hint ? `${error.hint}\n` : ""}The environment was left as it is to look into (\`prodlike status\`, \`prodlike logs\`); \`${remove}\` removes it, \`up --rm-on-failure\` does that by itself.`,
    exitCode: error.exitCode,
    ...(error.location ? { location: error.location } : {}),
    ...(error.data ? { data: error.data } : {}),
  });
}

async function idleOf(services: CoreServices, envId: string): Promise<{ idleMs?: number }> {
  const record = (await (await services.stores.idle()).all()).find(
    (found) => found.envId === envId,
  );
  return record ? { idleMs: record.idleMs } : {};
}
