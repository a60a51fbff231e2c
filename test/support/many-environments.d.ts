import type {
  ContainerEvent,
  ContainerInfo,
  DockerEngine,
} from "../../src/backends/docker/docker-engine.js";

export declare function fakeContainers(
  count: number,
  options?: { project?: string; codeRoot?: string },
): ContainerInfo[];

export declare function listingEngine(
  containers: ContainerInfo[],
  options?: { logLines?: Record<string, number> },
): DockerEngine & { containers: ContainerInfo[]; emit(event: ContainerEvent): void };
