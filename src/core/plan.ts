import type { Backend } from "../backends/backend.js";
import { type LoadedConfig, loadConfig } from "../config/load-config.js";
import type { UserSettings } from "../config/user-settings.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { environmentIdentity } from "../topology/identity.js";
import type { EnvironmentIdentity, Topology } from "../topology/model.js";

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
export async function resolveTarget(options: TargetOptions): Promise<Target> {
  const loaded = await loadConfig(options.dir);
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
  target: Target,
  backend: Backend,
  settings: UserSettings,
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
  const [
    { allocatePorts, probeLoopbackPort },
    { loadPreset },
    { portRequests, topologyFromPreset },
  ] = await Promise.all([
    import("../env/port-allocator.js"),
    import("../topology/preset-loader.js"),
    import("../topology/preset-importer.js"),
  ]);
  const [preset, claims] = await Promise.all([
    loadPreset(loaded.config.preset),
    backend.portClaims(identity.id),
  ]);
  const hostPorts = await allocatePorts(
    portRequests(preset, loaded.config),
    claims,
    probeLoopbackPort,
  );
  const topology = topologyFromPreset(preset, loaded.config, {
    identity,
    codeRoot: loaded.codeRoot,
    hostPorts,
    dbPassword: settings.deriveSecret(identity.id, "db"),
    configLocation: await loaded.locator(),
    platform: backend.name === "compose" ? "compose" : "kubernetes",
  });
  return { target, topology };
}
