import type { KubeObject } from "../../topology/model.js";
import type { ServiceUsage } from "../backend.js";

// What a cluster environment's services reserve and may use, read from their workloads'
// requests and limits: local clusters rarely run the metrics API, and these are what
// production's manifests say a service needs.

interface ContainerSpec {
  name?: string;
  resources?: {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
  };
}

/** Each workload container's requests and memory limit. */
export function usageFromWorkloads(objects: readonly KubeObject[]): ServiceUsage[] {
  return objects.flatMap((object) => {
    const spec = (object as { spec?: Record<string, unknown> }).spec;
    const template =
      (spec?.jobTemplate as { spec?: Record<string, unknown> } | undefined)?.spec?.template ??
      spec?.template;
    const containers =
      ((template as { spec?: { containers?: ContainerSpec[] } } | undefined)?.spec?.containers as
        | ContainerSpec[]
        | undefined) ?? [];
    return containers.map((container) => {
      const requests = container.resources?.requests;
      const limit = memoryBytes(container.resources?.limits?.memory);
      const cpuMillis = cpuMillicores(requests?.cpu);
      const requestedMemory = memoryBytes(requests?.memory);
      return {
        service: container.name ?? "",
        ...(limit !== undefined ? { memoryLimitBytes: limit } : {}),
        requests: {
          ...(cpuMillis !== undefined ? { cpuMillis } : {}),
          ...(requestedMemory !== undefined ? { memoryBytes: requestedMemory } : {}),
        },
      };
    });
  });
}

/** "250m" -> 250, "1" -> 1000, "0.5" -> 500. */
export function cpuMillicores(quantity: string | undefined): number | undefined {
  if (!quantity) return undefined;
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (!match) return undefined;
  return match[2] === "m" ? Number(match[1]) : Number(match[1]) * 1000;
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** "256Mi" -> 268435456, "1G" -> 1e9. */
export function memoryBytes(quantity: string | undefined): number | undefined {
  if (!quantity) return undefined;
  const match = /^(\d+(?:\.\d+)?)(k|M|G|Ki|Mi|Gi)?$/.exec(quantity.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (MEMORY_UNITS[match[2] ?? ""] ?? 1));
}
