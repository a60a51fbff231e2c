import type { ProdlikeConfig } from "../../src/config/schema.js";
import { configSchema } from "../../src/config/schema.js";
import type { Topology } from "../../src/topology/model.js";
import { topologyFromPreset } from "../../src/topology/preset-importer.js";
import { loadPreset } from "../../src/topology/preset-loader.js";
import { assignNodePorts, renderKubernetes } from "../../src/topology/render-kubernetes.js";
import type { SshAccess } from "../../src/topology/ssh-access.js";

/** The host user the code containers run as in these topologies. */
export const DEVELOPER = { uid: 1001, gid: 1001 };

// The Drupal preset's topology with fixed inputs, for golden files and renderer tests.
export async function drupalTopology(
  config: Partial<ProdlikeConfig> = {},
  ssh?: SshAccess,
): Promise<Topology> {
  const preset = await loadPreset("drupal");
  return topologyFromPreset(preset, configSchema.parse(config), {
    identity: { project: "shop", name: "local", id: "shop-local" },
    codeRoot: "/home/dev/shop",
    hostPorts: { web: 8080, db: 13306, mail: 18025 },
    dbPassword: "s3cret-password-123",
    developer: DEVELOPER,
    ...(ssh ? { ssh } : {}),
  });
}

// The Node preset's topology with fixed inputs; `config.services` turns options on.
export async function nodeTopology(config: Partial<ProdlikeConfig> = {}): Promise<Topology> {
  const preset = await loadPreset("node");
  return topologyFromPreset(preset, configSchema.parse({ preset: "node", ...config }), {
    identity: { project: "api", name: "local", id: "api-local" },
    codeRoot: "/home/dev/api",
    hostPorts: { web: 3000, redis: 16379, postgres: 15432, inspect: 9229, mail: 18025 },
    dbPassword: "s3cret-password-123",
  });
}

// The OpenMage preset's topology with fixed inputs.
export async function openmageTopology(options: { installed?: boolean } = {}): Promise<Topology> {
  const preset = await loadPreset("openmage");
  return topologyFromPreset(preset, configSchema.parse({ preset: "openmage" }), {
    identity: { project: "shop", name: "local", id: "shop-local" },
    codeRoot: "/home/dev/shop",
    hostPorts: { web: 8080, db: 13306, mail: 18025 },
    dbPassword: "s3cret-password-123",
    developer: DEVELOPER,
    installed: options.installed,
  });
}

// Renders a topology for kind the way the kind backend does, with fixed node paths.
export function renderForKind(topology: Topology) {
  return renderKubernetes(topology, {
    backend: "kind",
    code: { kind: "node-mount" as const, nodeCodePath: "/prodlike/code" },
    nodePorts: assignNodePorts(topology),
  });
}
