import os from "node:os";
import path from "node:path";
import type { Backend } from "../backends/backend.js";
import { type LoadedConfig, loadConfig } from "../config/load-config.js";
import type { ProdlikeConfig } from "../config/schema.js";
import type { UserSettings } from "../config/user-settings.js";
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
  reservations: PortReserver,
  options: {
    /** Whether the database holds an installed site (core/install.ts). */
    installed?: boolean;
  } = {},
): Promise<Plan> {
  const { loaded, identity } = target;
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
    reservations,
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
    hostCaBundle: await hostCaBundle(services.env),
  });
  return { target, topology };
}

/** The CA bundle this machine's tools trust (SSL_CERT_FILE, else Debian's own file), when
 *  there is one: a company proxy's CA reaches composer in the cli container too. */
async function hostCaBundle(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { stat } = await import("node:fs/promises");
  for (const file of [env.SSL_CERT_FILE, "/etc/ssl/certs/ca-certificates.crt"]) {
    if (file && path.isAbsolute(file) && (await stat(file).catch(() => undefined))?.isFile())
      return file;
  }
  return undefined;
}

/** Node.js's names for the two architectures its packages are built for. */
export function hostArch(): "arm64" | "x64" {
  return process.arch === "arm64" ? "arm64" : "x64";
}

/** Ports other `up`s of the engine are about to publish (see port-reservations.ts). */
export interface PortReserver {
  heldByOthers(): Promise<Set<number>>;
  /** Resolves the ports another `up` reserved too (none: they are this one's). */
  reserve(ports: readonly number[]): Promise<number[]>;
}

const RESERVE_ATTEMPTS = 10;

/**
 * Host ports for an environment: the ones it already has, else the preferred ones when
 * free, else the next free ones. Reserved as well as chosen: another `up` planning at the
 * same moment (QA starting environments side by side, another user) must not pick the
 * same free port. Never a port another reservation holds: PORT_UNAVAILABLE instead.
 */
export async function chooseHostPorts(
  requests: readonly PortRequest[],
  envId: string,
  backend: Backend,
  reservations: PortReserver,
  random: () => number = Math.random,
): Promise<Record<string, number>> {
  const { allocatePorts, probeLoopbackPort } = await import("../env/port-allocator.js");
  const claims = await backend.portClaims(envId);
  let contested: number[] = [];
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
    const reserved = await reservations.heldByOthers();
    const hostPorts = await allocatePorts(
      requests,
      { own: claims.own, others: new Set([...claims.others, ...reserved]) },
      probeLoopbackPort,
    );
    contested = await reservations.reserve(Object.values(hostPorts));
    if (contested.length === 0) return hostPorts;
    // Two `up`s that reserved at the same moment both step back; a random pause lets
    // one of them go first, and the other then sees its reservation.
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(random() * 200)));
  }
  throw new ProdlikeError(
    "PORT_UNAVAILABLE",
    `Other environments starting at the same moment kept claiming port ${contested.join(", ")} (${RESERVE_ATTEMPTS} attempts)`,
    {
      hint: "Run prodlike up again once they are up, or set other preferred ports in prodlike.yaml `ports:`.",
    },
  );
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
