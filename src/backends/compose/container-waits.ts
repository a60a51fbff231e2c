import { Label } from "../../topology/labels.js";
import type { ServiceSpec, Topology } from "../../topology/model.js";
import { redact } from "../../ui/redact.js";
import type { Clock } from "../../waits/clock.js";
import { type Probe, poll } from "../../waits/wait.js";
import type { ContainerInfo, DockerEngine } from "../docker/docker-engine.js";
import { waitOrFail } from "../wait-failure.js";

// When a compose service is ready, read from the engine by label: running (and healthy
// when it has a check), or, for a service that runs once (an init container, a Job),
// ended with exit 0.

export interface ServiceWait {
  timeoutMs: number;
  secrets: readonly string[];
  /** Wait for Docker's health check; otherwise running (and not unhealthy) is enough. */
  requireHealthy: boolean;
  /** Ready once it exited 0 (a run-once service). */
  runsOnce?: boolean;
  /** Once running, ready when this command exits 0 in the container. */
  healthCommand?: string[];
  onDetail: (detail: string) => void;
}

export async function waitForService(
  engine: DockerEngine,
  clock: Clock,
  envId: string,
  service: string,
  options: ServiceWait,
): Promise<void> {
  const find = async () =>
    (await engine.listContainers({ [Label.env]: envId, [Label.service]: service }))[0];
  const probe = async (): Promise<Probe> => {
    const container = await find();
    if (!container) return { done: false, detail: "no container yet" };
    if (options.runsOnce && container.state === "exited") {
      return container.exitCode === 0
        ? { done: true }
        : { failed: true, reason: `exited with code ${container.exitCode ?? "unknown"}` };
    }
    if (container.state === "exited" || container.state === "dead") {
      return { failed: true, reason: `container ${container.state}` };
    }
    if (container.state !== "running") return { done: false, detail: container.state };
    if (container.health === "unhealthy") return { failed: true, reason: "health check failing" };
    if (container.health === "starting" && options.requireHealthy) {
      return { done: false, detail: "health: starting" };
    }
    if (options.healthCommand) {
      const exitCode = await engine.execInContainer(container.id, options.healthCommand);
      if (exitCode !== 0) return { done: false, detail: "health command not passing yet" };
    }
    return { done: true };
  };
  await waitOrFail(
    poll(service, probe, { timeoutMs: options.timeoutMs, intervalMs: 100 }),
    clock,
    options.onDetail,
    async (failure) => {
      const container = await find();
      const logs = container ? await engine.containerLogs(container.id, 30).catch(() => "") : "";
      return {
        code: "HEALTH_TIMEOUT",
        message: `Service ${service} did not become ready: ${failure.reason}`,
        hint: `Last log lines of ${service}:\n${redact(logs.trimEnd(), options.secrets) || "(none)"}\nMore: prodlike logs ${service}`,
        data: { service },
      };
    },
  );
}

// Up to date: per service one container rendered from the same configuration hash,
// running and healthy (or, run once, ended with exit 0). Then `up` has nothing to do.
export function isUpToDate(
  containers: readonly ContainerInfo[],
  topology: Topology,
  serviceHashes: Readonly<Record<string, string>>,
): boolean {
  if (containers.length !== topology.services.length) return false;
  if (changedServices(containers, topology, serviceHashes).length > 0) return false;
  return topology.services.every((service) => {
    const container = containers.find(
      (candidate) => candidate.labels[Label.service] === service.name,
    );
    return container !== undefined && isReady(container, service);
  });
}

/** The services whose container is missing or was made from another definition: the
 *  ones a compose `up` recreates (the others keep running untouched). */
export function changedServices(
  containers: readonly ContainerInfo[],
  topology: Topology,
  serviceHashes: Readonly<Record<string, string>>,
): string[] {
  return topology.services
    .filter((service) => {
      const container = containers.find(
        (candidate) => candidate.labels[Label.service] === service.name,
      );
      return container?.labels[Label.configHash] !== serviceHashes[service.name];
    })
    .map((service) => service.name);
}

function isReady(container: ContainerInfo, service: ServiceSpec): boolean {
  if (service.runsOnce) return container.state === "exited" && container.exitCode === 0;
  return (
    container.state === "running" &&
    (container.health === "healthy" || (container.health === "none" && !service.health))
  );
}

/** Docker's stored health check (`["CMD-SHELL", "…"]`) as an exec argv; undefined when
 *  there is none or it is switched off. */
export function healthCommandOf(test: readonly string[] | undefined): string[] | undefined {
  const [kind, ...rest] = test ?? [];
  if (kind === "CMD" && rest.length > 0) return rest;
  if (kind === "CMD-SHELL" && rest.length === 1) return ["sh", "-c", rest[0] ?? ""];
  return undefined;
}
