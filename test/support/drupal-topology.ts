import type { ProdlikeConfig } from "../../src/config/schema.js";
import { configSchema } from "../../src/config/schema.js";
import type { Topology } from "../../src/topology/model.js";
import {
  type Platform,
  type SshAccess,
  topologyFromPreset,
} from "../../src/topology/preset-importer.js";
import { loadPreset } from "../../src/topology/preset-loader.js";

// The Drupal preset's topology with fixed inputs, for golden files and renderer tests.
export async function drupalTopology(
  config: Partial<ProdlikeConfig> = {},
  platform: Platform = "compose",
  ssh?: SshAccess,
): Promise<Topology> {
  const preset = await loadPreset("drupal");
  return topologyFromPreset(preset, configSchema.parse(config), {
    identity: { project: "shop", name: "local", id: "shop-local" },
    codeRoot: "/home/dev/shop",
    hostPorts: { web: 8080, db: 13306 },
    dbPassword: "s3cret-password-123",
    platform,
    ...(ssh ? { ssh } : {}),
  });
}
