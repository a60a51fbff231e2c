import os from "node:os";
import path from "node:path";
import type { Backend } from "../backends/backend.js";
import { type LoadedConfig, loadConfig } from "../config/load-config.js";
import type { ProdlikeConfig } from "../config/schema.js";
import type { UserSettings } from "../config/user-settings.js";
import { PortReservations } from "../env/port-reservations.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { environmentIdentity } from "../topology/identity.js";
import type { EnvironmentIdentity, Topology } from "../topology/model.js";
import type { PortRequest } from "../topology/preset-importer.js";
import type { SshAccess } from "../topology/ssh-access.js";
import type { CoreServices } from "./services.js";

export interface TargetOptions {
  /** The project folder (code root); the current folder by default. */
  dir: string;
  /** Environment name (`--name`); `local` by default. */
  name?: string | undefined;
}

export interface Target {
  loaded: LoadedConfig;
  identity: EnvironmentIdentity;
}

// Which environment a command is about: the project in `dir`, the name from `--name`.
export async function resolveTarget(
  services: Pick<CoreServices, "env">,
  options: TargetOptions,
): Promise<Target> {
  const loaded = await loadConfig(options.dir, services.env);
  return {
    loaded,
    identity: environmentIdentity(loaded.codeRoot, loaded.config.name, options.name),
  };
}

export interface Plan {
  target: Target;
  topology: Topology;
}

// Desired state for `up`: config + preset + free ports + secrets -> topology. Reads the
// engine only to learn which ports are taken.
export async function planEnvironment(
  services: Pick<CoreServices, "env" | "developer">,
  target: Target,
  backend: Backend,
  settings: UserSettings,
  options: {
    /** Whether the database holds an installed site (core/install.ts). */
    installed?: boolean;
  } = {},
): Promise<Plan> {
  const { loaded, identity } = target;
  const owner = await backend.ownerCodeRoot(identity.id);
  if (owner !== undefined && owner !== loaded.codeRoot) {
    throw new ProdlikeError("USAGE", `Environment ${identity.id} already belongs to ${owner}`, {
      hint: `Give this checkout its own environment: --name NAME, or set \`name:\` in prodlike.yaml.`,
    });
  }
  // Loaded here, not at the top: preset validation pulls in yaml and zod, which commands
  // that only read state (status, exec) should not pay for.
  const [{ loadPreset }, { portRequests, topologyFromPreset }] = await Promise.all([
    import("../topology/preset-loader.js"),
    import("../topology/preset-importer.js"),
  ]);
  const preset = await loadPreset(loaded.config.preset);
  const hostPorts = await chooseHostPorts(
    portRequests(preset, loaded.config),
    identity.id,
    backend,
    settings,
  );
  const topology = topologyFromPreset(preset, loaded.config, {
    identity,
    codeRoot: loaded.codeRoot,
    hostPorts,
    dbPassword: settings.deriveSecret(identity.id, "db"),
    appSecret: settings.deriveSecret(identity.id, "app"),
    configLocation: await loaded.locator(),
    ssh: await sshAccess(loaded.config, services.env),
    developer: services.developer,
    hostArch: hostArch(),
    installed: options.installed,
  });
  return { target, topology };
}

/** Node.js's names for the two architectures its packages are built for. */
export function hostArch(): "arm64" | "x64" {
  return process.arch === "arm64" ? "arm64" : "x64";
}

/**
 * Host ports for an environment: the ones it already has, else the preferred ones when
 * free, else the next free ones. Reserved as well as chosen: another `up` planning at the
 * same moment (QA starting environments side by side) must not pick the same free port.
 */
export async function chooseHostPorts(
  requests: readonly PortRequest[],
  envId: string,
  backend: Backend,
  settings: UserSettings,
): Promise<Record<string, number>> {
  const { allocatePorts, probeLoopbackPort } = await import("../env/port-allocator.js");
  const claims = await backend.portClaims(envId);
  const reservations = new PortReservations(
    path.join(settings.stateDir, "port-reservations"),
    envId,
  );
  let hostPorts: Record<string, number> = {};
  for (let attempt = 0; attempt < 10; attempt++) {
    const reserved = await reservations.heldByOthers();
    hostPorts = await allocatePorts(
      requests,
      { own: claims.own, others: new Set([...claims.others, ...reserved]) },
      probeLoopbackPort,
    );
    const conflicts = await reservations.reserve(Object.values(hostPorts));
    if (conflicts.length === 0) break;
  }
  return hostPorts;
}

// What of the developer's ssh the cli container gets (for drush sql:sync): the agent when
// SSH_AUTH_SOCK names a live socket, else the configured key; the configured known_hosts,
// else ~/.ssh/known_hosts when there is one.
async function sshAccess(config: ProdlikeConfig, env: NodeJS.ProcessEnv): Promise<SshAccess> {
  const { stat } = await import("node:fs/promises");
  const home = os.homedir();
  const expand = (file: string) => (file.startsWith("~/") ? path.join(home, file.slice(2)) : file);
  const isSocket = async (file: string | undefined) =>
    file ? ((await stat(file).catch(() => undefined))?.isSocket() ?? false) : false;
  const isFile = async (file: string) =>
    (await stat(file).catch(() => undefined))?.isFile() ?? false;
  const settings = config.pull?.ssh;
  // Docker Desktop cannot mount a macOS socket; it offers the host agent at this path.
  const agentSocket =
    process.platform === "darwin" && env.SSH_AUTH_SOCK
      ? "/run/host-services/ssh-auth.sock"
      : (await isSocket(env.SSH_AUTH_SOCK))
        ? env.SSH_AUTH_SOCK
        : undefined;
  const knownHosts = settings?.knownHosts
    ? expand(settings.knownHosts)
    : (await isFile(path.join(home, ".ssh", "known_hosts")))
      ? path.join(home, ".ssh", "known_hosts")
      : undefined;
  return {
    agentSocket,
    identityFile: settings?.identityFile ? expand(settings.identityFile) : undefined,
    knownHosts,
    strictHostKeyChecking: settings?.strictHostKeyChecking,
  };
}
