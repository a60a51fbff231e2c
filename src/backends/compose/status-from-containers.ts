import { Label } from "../../topology/labels.js";
import { byCodePoint } from "../../ui/text-order.js";
import type { EnvironmentState, EnvironmentStatus, PortStatus, ServiceStatus } from "../backend.js";
import type { ContainerInfo } from "../docker/docker-engine.js";

// Named ports travel on a container label (Label.ports) so status can name ports and
// build URLs from the engine alone, with no local state.
export function decodePortsLabel(
  value: string | undefined,
): { name: string; containerPort: number; protocol: string }[] {
  if (!value) return [];
  return value.split(",").flatMap((entry) => {
    const [name, port, protocol] = entry.split(":");
    return name && port && protocol ? [{ name, containerPort: Number(port), protocol }] : [];
  });
}

// Derives one environment's status from its containers (all carry the same env labels).
export function statusFromContainers(
  containers: readonly ContainerInfo[],
): EnvironmentStatus | undefined {
  const first = containers[0];
  if (!first) return undefined;
  const services: ServiceStatus[] = containers
    .map((container) => {
      const named = decodePortsLabel(container.labels[Label.ports]);
      const ports: PortStatus[] = container.ports.map((published) => {
        const known = named.find((port) => port.containerPort === published.containerPort);
        const status: PortStatus = {
          name: known?.name ?? String(published.containerPort),
          containerPort: published.containerPort,
          hostPort: published.hostPort,
          hostIp: published.hostIp,
        };
        if (known?.protocol === "http") status.url = `http://127.0.0.1:${published.hostPort}`;
        return status;
      });
      return {
        name: container.labels[Label.service] ?? container.name,
        role: container.labels[Label.role] ?? "",
        state: container.state,
        health: container.health,
        ports,
      };
    })
    .sort((a, b) => byCodePoint(a.name, b.name));

  const urls: Record<string, string> = {};
  for (const service of services) {
    for (const port of service.ports) if (port.url) urls[port.name] = port.url;
  }
  const labels = first.labels;
  return {
    id: labels[Label.env] ?? "",
    project: labels[Label.project] ?? "",
    name: labels[Label.name] ?? "",
    backend: "compose",
    preset: labels[Label.preset] ?? "",
    codeRoot: labels[Label.codeRoot] ?? "",
    state: overallState(services),
    services,
    urls,
    createdAt: new Date(
      Math.min(...containers.map((container) => container.createdAt)),
    ).toISOString(),
  };
}

export function overallState(services: readonly ServiceStatus[]): EnvironmentState {
  const running = services.filter((service) => service.state === "running");
  if (running.length === 0) return "stopped";
  if (running.length < services.length) return "partial";
  if (running.some((service) => service.health === "unhealthy")) return "unhealthy";
  if (running.some((service) => service.health === "starting")) return "starting";
  return "running";
}
