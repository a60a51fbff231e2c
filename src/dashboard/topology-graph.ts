import { readFile } from "node:fs/promises";
import path from "node:path";
import type { EnvironmentStatus } from "../backends/backend.js";
import { COMPOSE_FILE } from "../backends/compose/compose-project.js";
import { environmentDir } from "../env/generated-files.js";
import type { TopologyView } from "./wire.js";

// The small diagram of an environment: its services, which one waits for which (what
// talks to what: nginx to php-fpm, php-fpm to the database), and the volumes each
// mounts. A compose environment's are read from the compose file prodlike rendered for
// it; a cluster environment shows its services alone.

export async function topologyOf(environment: EnvironmentStatus): Promise<TopologyView> {
  const alone: TopologyView = {
    services: environment.services.map((service) => ({
      name: service.name,
      role: service.role,
      dependsOn: [],
      volumes: [],
    })),
    volumes: [],
  };
  if (environment.backend !== "compose") return alone;
  const file = path.join(environmentDir(environment.codeRoot, environment.name), COMPOSE_FILE);
  try {
    const { parse } = await import("yaml");
    return graphFromCompose(parse(await readFile(file, "utf8")) as unknown, environment);
  } catch {
    return alone;
  }
}

interface ComposeService {
  depends_on?: string[] | Record<string, unknown>;
  volumes?: (string | { type?: string; source?: string })[];
}

/** The graph a compose document draws (pure). */
export function graphFromCompose(document: unknown, environment: EnvironmentStatus): TopologyView {
  const services = ((document as { services?: Record<string, ComposeService> } | null)?.services ??
    {}) as Record<string, ComposeService>;
  const roles = new Map(environment.services.map((service) => [service.name, service.role]));
  const volumes = new Set<string>();
  const nodes = Object.entries(services).map(([name, service]) => {
    const dependsOn = Array.isArray(service.depends_on)
      ? service.depends_on.map(String)
      : Object.keys(service.depends_on ?? {});
    const named = (service.volumes ?? []).flatMap((volume) => {
      const source = typeof volume === "string" ? volume.split(":")[0] : volume.source;
      const isNamed =
        typeof volume === "string"
          ? source !== undefined && volume.includes(":") && !/^[./~]/.test(source)
          : volume.type === "volume";
      return isNamed && source ? [source] : [];
    });
    for (const volume of named) volumes.add(volume);
    return { name, role: roles.get(name) ?? "", dependsOn: dependsOn.sort(), volumes: named };
  });
  return {
    services: nodes.sort((a, b) => a.name.localeCompare(b.name)),
    volumes: [...volumes].sort(),
  };
}
