import type { Backend, EnvironmentStatus, UpOptions } from "../backends/backend.js";
import { LocalDatabase } from "../db/local-database.js";
import type { Topology } from "../topology/model.js";
import type { Progress } from "../ui/steps.js";
import type { Target } from "./plan.js";
import type { CoreServices } from "./services.js";

// An empty database is an installable site, never an installed one. A preset that tells
// them apart (install.check: SQL answering a number above 0 once a site is installed)
// gets the answer as a rendering input ({{install.date}}: OpenMage takes a database for
// an installed shop as soon as local.xml carries an install date, and runs every setup
// script against an empty one). The answer is asked of the running database; a stopped
// environment renders what was true when it was last asked.

/** What `up` reports about installation, for a preset that tells. */
export interface InstallReport {
  installed: boolean;
  /** How to install one: `prodlike run install`. */
  command: string;
}

/** The preset's install check of the environment's running database: undefined when
 *  there is no check or no running database to ask. */
export async function askInstalled(
  backend: Backend,
  status: EnvironmentStatus | undefined,
  check: string | undefined,
): Promise<boolean | undefined> {
  const db = status?.services.find((service) => service.role === "db");
  if (!check || !status || db?.state !== "running") return undefined;
  try {
    const database = new LocalDatabase(backend, status.id, db.name);
    const answer = await database.query(check, await database.name());
    const count = Number.parseInt(answer.trim().split("\n")[0] ?? "", 10);
    return Number.isFinite(count) && count > 0;
  } catch {
    return undefined;
  }
}

/**
 * The install state `up` renders with. An installed site stays one (what was seen last
 * is trusted: a warm `up` asks nothing, and every data change prodlike makes asks again);
 * anything else is asked of the database when it runs (an installer run outside
 * prodlike, a database filled by hand), else it is not installed (a new environment).
 */
export async function installStateBefore(
  services: CoreServices,
  target: Target,
  backend: Backend,
  status: EnvironmentStatus | undefined,
): Promise<boolean> {
  const { loadPreset } = await import("../topology/preset-loader.js");
  const check = (await loadPreset(target.loaded.config.preset)).definition.install?.check;
  if (!check || !status) return false;
  const states = await services.stores.installStates();
  const remembered = await states.get(target.identity.id);
  if (remembered === true) return true;
  const asked = await askInstalled(backend, status, check);
  if (asked === undefined) return remembered ?? false;
  if (asked !== remembered) {
    await states.set(target.identity.id, asked, new Date(services.clock.now()));
  }
  return asked;
}

/**
 * After `up` (or anything that replaced the data): asks the database again and, when the
 * answer is not what the environment was rendered for, renders it again and applies that
 * (only the services that read the install state are recreated; no release is kept for
 * it: it follows the data, not the code). Remembers the answer.
 */
export async function settleInstallState(
  services: CoreServices,
  backend: Backend,
  topology: Topology,
  replan: (installed: boolean) => Promise<Topology>,
  options: UpOptions,
  progress: Progress,
): Promise<InstallReport | undefined> {
  const install = topology.install;
  if (!install) return undefined;
  const envId = topology.identity.id;
  // Rendered for an installed site: it stays one (see installStateBefore).
  if (install.installed) return { installed: true, command: `prodlike run ${install.command}` };
  const installed = await askInstalled(backend, await backend.status(envId), install.check);
  if (installed === undefined) return undefined;
  await (await services.stores.installStates()).set(
    envId,
    installed,
    new Date(services.clock.now()),
  );
  if (installed !== install.installed) {
    const next = await replan(installed);
    if (renderedDiffers(topology, next)) {
      progress.info(
        installed
          ? "The database holds an installed site now: its configuration follows."
          : "The database holds no installed site: its configuration follows.",
      );
      await backend.up(next, progress, { ...options, keepRelease: false });
    }
  }
  return { installed, command: `prodlike run ${install.command}` };
}

/**
 * After the data changed (an import, a pull, a restore): when the database's answer is
 * not the one last seen, the environment is rendered again for it and applied (no
 * release kept). Nothing to do for a preset without an install check.
 */
export async function followInstallState(
  services: CoreServices,
  target: Target,
  backend: Backend,
  progress: Progress,
): Promise<void> {
  const { loadPreset } = await import("../topology/preset-loader.js");
  const check = (await loadPreset(target.loaded.config.preset)).definition.install?.check;
  if (!check) return;
  const envId = target.identity.id;
  const installed = await askInstalled(backend, await backend.status(envId), check);
  if (installed === undefined) return;
  const states = await services.stores.installStates();
  const before = await states.get(envId);
  await states.set(envId, installed, new Date(services.clock.now()));
  if (before === installed) return;
  const [{ openUserSettings }, { planEnvironment }, { upClaims }] = await Promise.all([
    import("../config/user-settings.js"),
    import("./plan.js"),
    import("./machine.js"),
  ]);
  const settings = await openUserSettings(services.env);
  // The environment's own ports, claimed again as every `up` does.
  const machine = await upClaims(services, envId);
  try {
    const { topology } = await planEnvironment(services, target, backend, settings, machine.ports, {
      installed,
    });
    await machine.intendImages(topology);
    await backend.up(topology, progress, {
      rebuild: false,
      healthTimeoutMs: FOLLOW_HEALTH_TIMEOUT_MS,
      keepRelease: false,
    });
  } finally {
    await machine.release();
  }
}

const FOLLOW_HEALTH_TIMEOUT_MS = 300_000;

// Whether the install state changes what runs (a preset whose templates never use it
// renders the same environment either way).
function renderedDiffers(a: Topology, b: Topology): boolean {
  const shape = (topology: Topology) =>
    JSON.stringify({ services: topology.services, configFiles: topology.configFiles });
  return shape(a) !== shape(b);
}
