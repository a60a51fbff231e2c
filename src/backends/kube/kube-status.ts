import type { EnvironmentRecord } from "../../env/environment-records.js";
import { containerRoles, KubeAnnotation, KubeLabel } from "../../topology/kube-labels.js";
import { byCodePoint } from "../../ui/text-order.js";
import type { EnvironmentState, EnvironmentStatus, ServiceStatus } from "../backend.js";
import type { PodInfo } from "./kube-api.js";
import { STUCK } from "./pod-waits.js";

// An environment's status from its record and its pods: one service per container, with
// the container's own role (a pod of nginx and php-fpm holds a `web` and a `php`).

export function statusOf(
  record: EnvironmentRecord,
  pods: readonly PodInfo[],
  forced?: EnvironmentState,
): EnvironmentStatus {
  const services: ServiceStatus[] = pods
    .flatMap((pod) =>
      pod.containers.map((container) => ({
        name: container.name,
        role:
          containerRoles(pod.annotations[KubeAnnotation.roles])[container.name] ??
          pod.labels[KubeLabel.role] ??
          "",
        state: pod.terminating ? "terminating" : container.state,
        health: pod.terminating
          ? "stopping"
          : container.ready
            ? "healthy"
            : container.state === "running"
              ? "starting"
              : "unhealthy",
        ports: record.ports
          .filter((port) => port.service === container.name)
          .map((port) => ({
            name: port.name,
            containerPort: port.containerPort,
            hostPort: port.hostPort,
            hostIp: "127.0.0.1",
            ...(port.protocol === "http" ? { url: `http://127.0.0.1:${port.hostPort}` } : {}),
          })),
      })),
    )
    .sort((a, b) => byCodePoint(a.name, b.name));
  const state: EnvironmentState =
    forced ??
    (services.length === 0
      ? "stopped"
      : services.some((service) => STUCK.has(service.state))
        ? "unhealthy"
        : services.some((service) => service.state === "terminating")
          ? "partial"
          : services.every((service) => service.health === "healthy")
            ? "running"
            : "starting");
  const urls = Object.fromEntries(
    record.ports
      .filter((port) => port.protocol === "http")
      .map((port) => [port.name, `http://127.0.0.1:${port.hostPort}`]),
  );
  return {
    id: record.id,
    project: record.project,
    name: record.name,
    backend: record.backend,
    preset: record.preset,
    codeRoot: record.codeRoot,
    state,
    services,
    urls,
    createdAt: record.createdAt,
  };
}
