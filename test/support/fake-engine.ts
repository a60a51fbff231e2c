import type {
  BuildRequest,
  ContainerConfig,
  ContainerCounters,
  ContainerEvent,
  ContainerInfo,
  DockerEngine,
  LabelFilter,
  PublishedPort,
} from "../../src/backends/docker/docker-engine.js";

interface Labelled {
  labels: Record<string, string>;
}

function matches(item: Labelled, filter: LabelFilter): boolean {
  return Object.entries(filter).every(([key, value]) =>
    value === true ? key in item.labels : item.labels[key] === value,
  );
}

// An in-memory Docker engine: enough state for the compose backend's planning, waiting
// and clean-up logic, with every removal recorded.
export class FakeEngine implements DockerEngine {
  containers: ContainerInfo[] = [];
  volumes: (Labelled & { name: string })[] = [];
  networks: (Labelled & { id: string; name: string })[] = [];
  images: (Labelled & { id: string; tags: string[] })[] = [];
  readonly removed: string[] = [];

  async ping(): Promise<void> {}
  async listContainers(labels: LabelFilter): Promise<ContainerInfo[]> {
    return this.containers.filter((container) => matches(container, labels));
  }
  /** Bytes receivedBytes answers with, by container id. */
  received = new Map<string, number>();
  async receivedBytes(id: string): Promise<number> {
    return this.received.get(id) ?? 0;
  }
  async containerLogs(): Promise<string> {
    return "";
  }
  async listVolumes(labels: LabelFilter): Promise<string[]> {
    return this.volumes.filter((volume) => matches(volume, labels)).map((volume) => volume.name);
  }
  async listNetworks(labels: LabelFilter): Promise<{ id: string; name: string }[]> {
    return this.networks.filter((network) => matches(network, labels));
  }
  async listImages(labels: LabelFilter): Promise<{ id: string; tags: string[] }[]> {
    return this.images.filter((image) => matches(image, labels));
  }
  async removeContainer(id: string): Promise<void> {
    this.removed.push(`container ${id}`);
    this.containers = this.containers.filter((container) => container.id !== id);
  }
  async removeVolume(name: string): Promise<void> {
    this.removed.push(`volume ${name}`);
    this.volumes = this.volumes.filter((volume) => volume.name !== name);
  }
  async removeNetwork(id: string): Promise<void> {
    this.removed.push(`network ${id}`);
    this.networks = this.networks.filter((network) => network.id !== id);
  }
  // As the engine does: a tag is untagged (the image goes with its last tag); an id of an
  // image with several tags is refused (HTTP 409 "referenced in multiple repositories").
  async removeImage(id: string): Promise<boolean> {
    const byId = this.images.find((image) => image.id === id);
    if (!byId && !this.images.some((image) => image.tags.includes(id))) return false;
    if (byId && byId.tags.length > 1) {
      throw new Error(`(HTTP code 409) conflict - unable to delete ${id} (must be forced)`);
    }
    this.removed.push(`image ${id}`);
    this.images = this.images
      .map((image) => ({ ...image, tags: image.tags.filter((tag) => tag !== id) }))
      .filter((image) => image.id !== id && image.tags.length > 0);
    return true;
  }
  async imageExists(ref: string): Promise<boolean> {
    return this.images.some((image) => image.tags.includes(ref));
  }
  async buildImage(request: BuildRequest): Promise<void> {
    this.images.push({ id: `sha256:${request.tag}`, tags: [request.tag], labels: request.labels });
  }
  readonly imports: { tarballPath: string; reference: string }[] = [];
  async importImage(tarballPath: string, repository: string, tag: string): Promise<void> {
    this.imports.push({ tarballPath, reference: `${repository}:${tag}` });
    this.images.push({
      id: `sha256:${repository}-${tag}`,
      tags: [`${repository}:${tag}`],
      labels: {},
    });
  }
  async pullImage(): Promise<void> {}
  configs = new Map<string, ContainerConfig>();
  async inspectContainer(id: string): Promise<ContainerConfig> {
    const config = this.configs.get(id);
    if (!config) throw new Error(`no such container ${id}`);
    return config;
  }
  restarted: string[] = [];
  /** The stop timeout of each restart, in seconds (0: killed at once). */
  readonly restartTimeouts: number[] = [];
  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.restarted.push(id);
    this.restartTimeouts.push(timeoutSeconds);
  }
  /** Exit codes execInContainer answers with, in turn; then execExitCode. */
  execExitCodes: number[] = [];
  execExitCode = 0;
  execs: { id: string; command: readonly string[] }[] = [];
  async execInContainer(id: string, command: readonly string[]): Promise<number> {
    this.execs.push({ id, command });
    return this.execExitCodes.shift() ?? this.execExitCode;
  }
  /** Counters containerStats answers with, by container id. */
  counters = new Map<string, ContainerCounters>();
  async containerStats(id: string): Promise<ContainerCounters> {
    const counters = this.counters.get(id);
    if (!counters) throw new Error(`no such container: ${id}`);
    return counters;
  }
  /** Lines followLogs answers with, by container id (then it waits for the abort). */
  logLines = new Map<string, { stream: "stdout" | "stderr"; text: string }[]>();
  async followLogs(
    id: string,
    options: { tail: number; signal: AbortSignal },
    onLine: (line: { stream: "stdout" | "stderr"; text: string }) => void,
  ): Promise<void> {
    for (const line of (this.logLines.get(id) ?? []).slice(-options.tail)) onLine(line);
    if (options.signal.aborted) return;
    await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
  }
  /** The watchers listening, to send them events (emit). */
  watchers: ((event: ContainerEvent) => void)[] = [];
  async watchContainers(
    _labels: LabelFilter,
    signal: AbortSignal,
    onEvent: (event: ContainerEvent) => void,
  ): Promise<void> {
    this.watchers.push(onEvent);
    signal.addEventListener("abort", () => {
      this.watchers = this.watchers.filter((watcher) => watcher !== onEvent);
    });
  }
  emit(event: ContainerEvent): void {
    for (const watcher of this.watchers) watcher(event);
  }
  // As the engine does: one volume per name, the first creator's labels kept.
  async createVolume(
    name: string,
    labels: Record<string, string>,
  ): Promise<Record<string, string>> {
    const existing = this.volumes.find((volume) => volume.name === name);
    if (existing) return existing.labels;
    this.volumes.push({ name, labels: { ...labels } });
    return labels;
  }
  async labelledVolumes(
    labels: LabelFilter,
  ): Promise<{ name: string; labels: Record<string, string> }[]> {
    return this.volumes
      .filter((volume) => matches(volume, labels))
      .map((volume) => ({ name: volume.name, labels: volume.labels }));
  }
  async volumeLabels(name: string): Promise<Record<string, string> | undefined> {
    return this.volumes.find((volume) => volume.name === name)?.labels;
  }
  /** Configured port bindings by container id (a stopped container's too). */
  bindings = new Map<string, PublishedPort[]>();
  async portBindings(id: string): Promise<PublishedPort[]> {
    return (
      this.bindings.get(id) ?? this.containers.find((container) => container.id === id)?.ports ?? []
    );
  }
}
