import { ProdlikeError } from "../../errors/prodlike-error.js";
import { Label } from "../../topology/labels.js";
import type { ServiceLogLine, ServiceUsage } from "../backend.js";
import type { ContainerInfo, DockerEngine } from "../docker/docker-engine.js";

// What the dashboard watches of a compose environment, read through the engine API with
// no compose process: each container's output line by line, and its CPU and memory.

/** The one "no such service" error of a compose environment, naming the ones it has. */
export function serviceMissing(
  envId: string,
  service: string,
  containers: readonly ContainerInfo[],
): ProdlikeError {
  const known = containers.map((candidate) => candidate.labels[Label.service]).join(", ");
  return new ProdlikeError(
    "SERVICE_NOT_FOUND",
    `Environment ${envId} has no service \`${service}\``,
    {
      hint: `Its services: ${known}.`,
    },
  );
}

/** The environment's containers that run `services` (all of them when none is named). */
function chosen(
  envId: string,
  containers: readonly ContainerInfo[],
  services: readonly string[],
): ContainerInfo[] {
  for (const service of services) {
    if (!containers.some((container) => container.labels[Label.service] === service)) {
      throw serviceMissing(envId, service, containers);
    }
  }
  return containers.filter(
    (container) =>
      services.length === 0 || services.includes(container.labels[Label.service] ?? ""),
  );
}

export async function followComposeLogs(
  engine: DockerEngine,
  envId: string,
  containers: readonly ContainerInfo[],
  services: readonly string[],
  options: { tail: number; signal: AbortSignal },
  onLine: (line: ServiceLogLine) => void,
): Promise<void> {
  await Promise.all(
    chosen(envId, containers, services).map((container) => {
      const service = container.labels[Label.service] ?? container.name;
      return engine.followLogs(container.id, options, (line) => onLine({ service, ...line }));
    }),
  );
}

export async function composeUsage(
  engine: DockerEngine,
  containers: readonly ContainerInfo[],
): Promise<ServiceUsage[]> {
  const running = containers.filter((container) => container.state === "running");
  const readings = await Promise.all(
    running.map(async (container): Promise<ServiceUsage | undefined> => {
      try {
        const counters = await engine.containerStats(container.id);
        return { service: container.labels[Label.service] ?? container.name, ...counters };
      } catch {
        // Stopped between the listing and the reading: no reading this time.
        return undefined;
      }
    }),
  );
  return readings.filter((reading) => reading !== undefined);
}
