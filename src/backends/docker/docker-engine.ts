import { readdir } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { RunningContainer } from "../backend.js";
import { EngineApiReader, engineEndpoint, type RawContainer } from "./engine-api-reader.js";

// What the compose backend asks of the Docker engine. An interface so the planning and
// waiting logic can be unit-tested with a fake; DockerodeEngine is the real one.

export type ContainerHealth = "healthy" | "unhealthy" | "starting" | "none";

export interface PublishedPort {
  containerPort: number;
  hostPort: number;
  hostIp: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  state: string;
  health: ContainerHealth;
  labels: Record<string, string>;
  image: string;
  imageId: string;
  ports: PublishedPort[];
  createdAt: number;
  /** An exited container's exit code. */
  exitCode?: number;
  /** The networks it is attached to, by name (none when it shares another's). */
  networks: string[];
  /** `container:ID` when it shares another container's network (a pod's sidecar). */
  networkMode?: string;
}

export type LabelFilter = Record<string, string | true>;

export interface DockerEngine {
  ping(): Promise<void>;
  listContainers(labels: LabelFilter): Promise<ContainerInfo[]>;
  containerLogs(id: string, tail: number): Promise<string>;
  /** Bytes a running container has received on all its networks (0 when stopped). */
  receivedBytes(id: string): Promise<number>;
  listVolumes(labels: LabelFilter): Promise<string[]>;
  listNetworks(labels: LabelFilter): Promise<{ id: string; name: string }[]>;
  listImages(labels: LabelFilter): Promise<{ id: string; tags: string[] }[]>;
  removeContainer(id: string): Promise<void>;
  removeVolume(name: string): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  /** Resolves false when the image was already gone. */
  removeImage(id: string): Promise<boolean>;
  imageExists(ref: string): Promise<boolean>;
  buildImage(request: BuildRequest): Promise<void>;
  /** Imports a root filesystem tarball (a file on disk) as repository:tag. */
  importImage(tarballPath: string, repository: string, tag: string): Promise<void>;
  pullImage(ref: string): Promise<void>;
  /** A container's configuration as it runs, beside its image's defaults (parity). */
  inspectContainer(id: string): Promise<ContainerConfig>;
  /** Stops (SIGTERM, then SIGKILL after the timeout) and starts a container. */
  restartContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Runs a command in a running container, output discarded; resolves its exit code. */
  execInContainer(id: string, command: readonly string[]): Promise<number>;
  /** Creates a volume of that name with these labels, or finds the one that exists (the
   *  engine creates one name once, atomically): the labels it has, another creator's when
   *  it was first, which a nonce among them tells. */
  createVolume(name: string, labels: Record<string, string>): Promise<Record<string, string>>;
  /** Volumes and their labels (the claims and records kept with the engine). */
  labelledVolumes(labels: LabelFilter): Promise<{ name: string; labels: Record<string, string> }[]>;
  /** One volume's labels; undefined when no volume has that name. */
  volumeLabels(name: string): Promise<Record<string, string> | undefined>;
  /** The host ports a container is configured to publish: a stopped container lists
   *  none, yet takes them back when it starts. */
  portBindings(id: string): Promise<PublishedPort[]>;
  /** One reading of a running container's CPU and memory counters. */
  containerStats(id: string): Promise<ContainerCounters>;
  /** The last `tail` lines of a container's output, then each new one, one call per
   *  line, until `signal` aborts or the container stops. */
  followLogs(
    id: string,
    options: { tail: number; signal: AbortSignal },
    onLine: (line: { stream: "stdout" | "stderr"; text: string }) => void,
  ): Promise<void>;
  /** Calls `onEvent` for each event of a container with these labels (created, started,
   *  died, health changed, removed…) until `signal` aborts; resolves once listening. */
  watchContainers(
    labels: LabelFilter,
    signal: AbortSignal,
    onEvent: (event: ContainerEvent) => void,
  ): Promise<void>;
}

/** A container's cumulative CPU time beside the whole machine's, and its memory now. */
export interface ContainerCounters {
  cpuNanos: number;
  systemNanos: number;
  onlineCpus: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

/** The action of the event watchContainers sends after listening again (events missed). */
export const RECONNECTED = "prodlike:reconnected";

export interface ContainerEvent {
  action: string;
  id: string;
  labels: Record<string, string>;
}

/** What parity reads of a running container, and its health check as Docker stores it
 *  (`["CMD-SHELL", "…"]`), if any. */
export type ContainerConfig = RunningContainer["config"] & { healthTest?: string[] };

export interface BuildRequest {
  context: string;
  tag: string;
  labels: Record<string, string>;
  /** Docker build arguments (ARG in the Dockerfile). */
  buildArgs?: Record<string, string> | undefined;
  onLine?: (line: string) => void;
}

function labelFilters(labels: LabelFilter): string[] {
  return Object.entries(labels).map(([key, value]) => (value === true ? key : `${key}=${value}`));
}

const PING_TRUSTED_MS = 2_000;

// The engine through dockerode, loaded on first use. Reads on the start-up path (ping,
// list containers) go through EngineApiReader when the engine is on a unix socket, so
// `status` and `ls` never load dockerode.
export class DockerodeEngine implements DockerEngine {
  private client: Promise<Docker> | undefined;
  private readonly reader: EngineApiReader | undefined;
  private readonly listings = new Map<string, Promise<RawContainer[]>>();
  private pinging: Promise<void> | undefined;
  private answeredAt: number | undefined;
  private readonly volumeListings = new Map<
    string,
    Promise<{ name: string; labels: Record<string, string> }[]>
  >();

  constructor(env: NodeJS.ProcessEnv) {
    const endpoint = engineEndpoint(env);
    this.reader = endpoint ? new EngineApiReader(endpoint) : undefined;
  }

  // Connects to DOCKER_HOST or the default socket, as the docker CLI does.
  private get docker(): Promise<Docker> {
    this.client ??= import("dockerode").then(({ default: DockerClient }) => new DockerClient());
    return this.client;
  }

  // One ping for callers asking at the same moment, and an answer trusted for a moment
  // after: core starts the ping beside its reading of the project (backendFor), and the
  // backend's preflight then finds it answered instead of asking again. A failure is
  // never kept: the next ping asks the engine.
  ping(): Promise<void> {
    if (this.answeredAt !== undefined && performance.now() - this.answeredAt < PING_TRUSTED_MS) {
      return Promise.resolve();
    }
    this.pinging ??= this.askPing()
      .then(() => {
        this.answeredAt = performance.now();
      })
      .finally(() => {
        this.pinging = undefined;
      });
    return this.pinging;
  }

  private async askPing(): Promise<void> {
    try {
      if (this.reader) await this.reader.ping();
      else await (await this.docker).ping();
    } catch (error) {
      throw new ProdlikeError("DOCKER_UNAVAILABLE", "Cannot reach the Docker engine", {
        cause: error,
        hint: "Start Docker (Linux: `sudo systemctl start docker`, or run `dockerd`), or set DOCKER_HOST. `prodlike doctor` checks it.",
        data: { reason: error instanceof Error ? error.message : String(error) },
      });
    }
  }

  async listContainers(labels: LabelFilter): Promise<ContainerInfo[]> {
    // The same listing asked for twice at once (ls lists the environments and reads the
    // router's state side by side) is one engine query: with hundreds of containers the
    // engine takes longer to list than anything else ls does.
    return (await this.sharedQuery(this.listings, labels, () => this.rawContainers(labels))).map(
      containerInfo,
    );
  }

  // One query for callers asking the same at the same moment; a later caller asks anew.
  private sharedQuery<T>(
    pending: Map<string, Promise<T>>,
    labels: LabelFilter,
    query: () => Promise<T>,
  ): Promise<T> {
    const key = JSON.stringify(labelFilters(labels).sort());
    let found = pending.get(key);
    if (!found) {
      found = query().finally(() => pending.delete(key));
      pending.set(key, found);
    }
    return found;
  }

  private rawContainers(labels: LabelFilter): Promise<RawContainer[]> {
    return this.reader
      ? this.reader.listContainers(labelFilters(labels))
      : this.docker.then((docker) =>
          docker.listContainers({ all: true, filters: { label: labelFilters(labels) } }),
        );
  }

  async containerLogs(id: string, tail: number): Promise<string> {
    const buffer = (await (
      await this.docker
    )
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail, follow: false })) as Buffer;
    return demuxToText(buffer);
  }

  async receivedBytes(id: string): Promise<number> {
    const stats = (await (await this.docker).getContainer(id).stats({ stream: false })) as {
      networks?: Record<string, { rx_bytes?: number }>;
    };
    return Object.values(stats.networks ?? {}).reduce(
      (total, network) => total + (network.rx_bytes ?? 0),
      0,
    );
  }

  async listVolumes(labels: LabelFilter): Promise<string[]> {
    const result = await (await this.docker).listVolumes({
      filters: { label: labelFilters(labels) },
    });
    return (result.Volumes ?? []).map((volume) => volume.Name);
  }

  async listNetworks(labels: LabelFilter): Promise<{ id: string; name: string }[]> {
    const networks = await (await this.docker).listNetworks({
      filters: { label: labelFilters(labels) },
    });
    return networks.map((network) => ({ id: network.Id, name: network.Name }));
  }

  async listImages(labels: LabelFilter): Promise<{ id: string; tags: string[] }[]> {
    const images = await (await this.docker).listImages({
      filters: { label: labelFilters(labels) },
    });
    return images.map((image) => ({ id: image.Id, tags: image.RepoTags ?? [] }));
  }

  async removeContainer(id: string): Promise<void> {
    await ignoreNotFound((await this.docker).getContainer(id).remove({ force: true, v: false }));
  }

  async removeVolume(name: string): Promise<void> {
    await ignoreNotFound((await this.docker).getVolume(name).remove());
  }

  async removeNetwork(id: string): Promise<void> {
    const network = (await this.docker).getNetwork(id);
    // What is still attached once the environment's own containers are gone is the shared
    // local router, joined by another prodlike's sync after this one let go: it is let go
    // of again here, or the removal fails "network has active endpoints".
    const inspected = (await network.inspect().catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined;
      throw error;
    })) as { Containers?: Record<string, unknown> } | undefined;
    if (!inspected) return;
    for (const container of Object.keys(inspected.Containers ?? {})) {
      await ignoreNotFound(network.disconnect({ Container: container, Force: true }));
    }
    await ignoreNotFound(network.remove());
  }

  async removeImage(id: string): Promise<boolean> {
    return ignoreNotFound(
      (await this.docker).getImage(id).remove({ force: false, noprune: false }),
    );
  }

  async inspectContainer(id: string): Promise<ContainerConfig> {
    const docker = await this.docker;
    const container = await docker.getContainer(id).inspect();
    const image = await docker.getImage(container.Image).inspect();
    const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
    return {
      image: container.Config.Image,
      env: list(container.Config.Env),
      entrypoint: list(container.Config.Entrypoint),
      cmd: list(container.Config.Cmd),
      mounts: (container.Mounts ?? []).map((mount) => ({
        source: mount.Source,
        destination: mount.Destination,
      })),
      imageDefaults: {
        env: list(image.Config?.Env),
        entrypoint: list(image.Config?.Entrypoint),
        cmd: list(image.Config?.Cmd),
      },
      ...(container.Config.Healthcheck?.Test
        ? { healthTest: list(container.Config.Healthcheck.Test) }
        : {}),
    };
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await (await this.docker).getContainer(id).restart({ t: timeoutSeconds });
  }

  async execInContainer(id: string, command: readonly string[]): Promise<number> {
    const exec = await (await this.docker)
      .getContainer(id)
      .exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    // Drained so the command never blocks on a full pipe; its output is not wanted.
    stream.resume();
    await new Promise<void>((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    return (await exec.inspect()).ExitCode ?? 1;
  }

  async containerStats(id: string): Promise<ContainerCounters> {
    // one-shot: one reading at once instead of the two a second apart the engine takes to
    // fill precpu_stats; the caller keeps the previous reading to compute a rate.
    const stats = (await (
      await this.docker
    )
      .getContainer(id)
      .stats({ stream: false, "one-shot": true } as { stream: false })) as unknown as RawStats;
    const cache = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.cache ?? 0;
    return {
      cpuNanos: stats.cpu_stats?.cpu_usage?.total_usage ?? 0,
      systemNanos: stats.cpu_stats?.system_cpu_usage ?? 0,
      onlineCpus: stats.cpu_stats?.online_cpus ?? 1,
      // What `docker stats` shows: the page cache the kernel can drop is not counted.
      memoryBytes: Math.max(0, (stats.memory_stats?.usage ?? 0) - cache),
      memoryLimitBytes: stats.memory_stats?.limit ?? 0,
    };
  }

  async followLogs(
    id: string,
    options: { tail: number; signal: AbortSignal },
    onLine: (line: { stream: "stdout" | "stderr"; text: string }) => void,
  ): Promise<void> {
    const container = (await this.docker).getContainer(id);
    const tty = (await container.inspect()).Config.Tty;
    const stream = (await container.logs({
      stdout: true,
      stderr: true,
      tail: options.tail,
      follow: true,
    })) as NodeJS.ReadableStream & { destroy(): void };
    const splitter = new LineSplitter(tty, onLine);
    const stop = () => stream.destroy();
    options.signal.addEventListener("abort", stop, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (chunk: Buffer) => splitter.push(chunk));
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", (error) => (options.signal.aborted ? resolve() : reject(error)));
      });
      splitter.flush();
    } finally {
      options.signal.removeEventListener("abort", stop);
    }
  }

  async watchContainers(
    labels: LabelFilter,
    signal: AbortSignal,
    onEvent: (event: ContainerEvent) => void,
  ): Promise<void> {
    const stream = (await (
      await this.docker
    ).getEvents({
      filters: { type: ["container"], label: labelFilters(labels) },
    })) as NodeJS.ReadableStream & { destroy(): void };
    signal.addEventListener("abort", () => stream.destroy(), { once: true });
    let pending = "";
    stream.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const event = parseEngineEvent(line);
        if (event) onEvent(event);
      }
    });
    // The stream ends when the engine restarts: listened to again (every 2 s until the
    // engine answers), and said with a "reconnected" event, since changes were missed.
    let ended = false;
    const resume = () => {
      if (ended || signal.aborted) return;
      ended = true;
      const retry = () => {
        if (signal.aborted) return;
        this.watchContainers(labels, signal, onEvent).then(
          () => onEvent({ action: RECONNECTED, id: "", labels: {} }),
          () => setTimeout(retry, 2000).unref(),
        );
      };
      setTimeout(retry, 2000).unref();
    };
    stream.on("end", resume);
    stream.on("error", resume);
  }

  async createVolume(
    name: string,
    labels: Record<string, string>,
  ): Promise<Record<string, string>> {
    if (this.reader) {
      const response = await this.reader.request("POST", "/volumes/create", {
        Name: name,
        Labels: labels,
      });
      if (response.status !== 201 && response.status !== 200) {
        throw new Error(`engine answered ${response.status}: ${response.body}`);
      }
      return (JSON.parse(response.body) as { Labels?: Record<string, string> }).Labels ?? {};
    }
    const docker = await this.docker;
    await docker.createVolume({ Name: name, Labels: labels });
    return ((await docker.getVolume(name).inspect()).Labels as Record<string, string>) ?? {};
  }

  // Shared like listContainers: status reads the sleep records for the router's state and
  // for the environment's own at the same moment.
  async labelledVolumes(
    labels: LabelFilter,
  ): Promise<{ name: string; labels: Record<string, string> }[]> {
    const volumes = await this.sharedQuery(this.volumeListings, labels, () =>
      this.rawVolumes(labels),
    );
    return volumes.map((volume) => ({ name: volume.name, labels: { ...volume.labels } }));
  }

  private async rawVolumes(
    labels: LabelFilter,
  ): Promise<{ name: string; labels: Record<string, string> }[]> {
    const filters = { label: labelFilters(labels) };
    const volumes: { Name: string; Labels?: Record<string, string> | null }[] = this.reader
      ? await this.reader
          .request("GET", `/volumes?filters=${encodeURIComponent(JSON.stringify(filters))}`)
          .then((response) => {
            if (response.status !== 200)
              throw new Error(`engine answered ${response.status}: ${response.body}`);
            return (JSON.parse(response.body) as { Volumes?: { Name: string }[] | null }).Volumes;
          })
          .then((found) => found ?? [])
      : ((await (await this.docker).listVolumes({ filters })).Volumes ?? []);
    return volumes.map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} }));
  }

  async volumeLabels(name: string): Promise<Record<string, string> | undefined> {
    if (this.reader) {
      const response = await this.reader.request("GET", `/volumes/${encodeURIComponent(name)}`);
      if (response.status === 404) return undefined;
      if (response.status !== 200)
        throw new Error(`engine answered ${response.status}: ${response.body}`);
      return (JSON.parse(response.body) as { Labels?: Record<string, string> | null }).Labels ?? {};
    }
    try {
      const volume = await (await this.docker).getVolume(name).inspect();
      return (volume.Labels as Record<string, string> | null) ?? {};
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async portBindings(id: string): Promise<PublishedPort[]> {
    type Bindings = Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    let bindings: Bindings | undefined;
    if (this.reader) {
      const response = await this.reader.request(
        "GET",
        `/containers/${encodeURIComponent(id)}/json`,
      );
      if (response.status === 404) return [];
      if (response.status !== 200)
        throw new Error(`engine answered ${response.status}: ${response.body}`);
      bindings = (JSON.parse(response.body) as { HostConfig?: { PortBindings?: Bindings } })
        .HostConfig?.PortBindings;
    } else {
      try {
        const inspected = await (await this.docker).getContainer(id).inspect();
        bindings = inspected.HostConfig.PortBindings as Bindings;
      } catch (error) {
        if (statusOf(error) === 404) return [];
        throw error;
      }
    }
    return Object.entries(bindings ?? {}).flatMap(([containerPort, hosts]) =>
      (hosts ?? []).flatMap((host) => {
        const hostPort = Number(host.HostPort);
        return hostPort > 0
          ? [
              {
                containerPort: Number.parseInt(containerPort, 10),
                hostPort,
                hostIp: host.HostIp ?? "",
              },
            ]
          : [];
      }),
    );
  }

  async imageExists(ref: string): Promise<boolean> {
    if (this.reader) return this.reader.imageExists(ref);
    try {
      await (await this.docker).getImage(ref).inspect();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async buildImage(request: BuildRequest): Promise<void> {
    const files = await listFiles(request.context);
    const docker = await this.docker;
    const stream = await docker.buildImage(
      { context: request.context, src: files },
      {
        t: request.tag,
        labels: request.labels,
        rm: true,
        forcerm: true,
        ...(request.buildArgs ? { buildargs: request.buildArgs } : {}),
      },
    );
    const events = await followStream(docker, stream, (event) => {
      const text = typeof event.stream === "string" ? event.stream.trimEnd() : undefined;
      if (text) request.onLine?.(text);
    });
    const failure = events.find((event) => event.error !== undefined);
    if (failure) {
      const tail = events
        .map((event) => (typeof event.stream === "string" ? event.stream : ""))
        .join("")
        .trimEnd()
        .split("\n")
        .slice(-15)
        .join("\n");
      throw new ProdlikeError(
        "IMAGE_BUILD_FAILED",
        `Building ${request.tag} failed: ${String(failure.error)}`,
        {
          hint: `Build output (last lines):\n${tail}`,
          data: { image: request.tag },
        },
      );
    }
  }

  async importImage(tarballPath: string, repository: string, tag: string): Promise<void> {
    const docker = await this.docker;
    const stream = await docker.importImage(tarballPath, {
      repo: repository,
      tag,
    });
    const events = await followStream(docker, stream);
    const failure = events.find((event) => event.error !== undefined);
    if (failure) throw new Error(String(failure.error));
  }

  async pullImage(ref: string): Promise<void> {
    const docker = await this.docker;
    const stream = await docker.pull(ref);
    const events = await followStream(docker, stream);
    const failure = events.find((event) => event.error !== undefined);
    if (failure) throw new Error(String(failure.error));
  }
}

/** A container as the engine lists it, in the adapter's terms. */
function containerInfo(container: RawContainer): ContainerInfo {
  return {
    id: container.Id,
    name: (container.Names?.[0] ?? container.Id).replace(/^\//, ""),
    state: container.State,
    health: healthFromStatus(container.Status),
    labels: container.Labels ?? {},
    image: container.Image,
    imageId: container.ImageID,
    ports: (container.Ports ?? []).flatMap((port) =>
      port.PublicPort
        ? [{ containerPort: port.PrivatePort, hostPort: port.PublicPort, hostIp: port.IP ?? "" }]
        : [],
    ),
    createdAt: container.Created * 1000,
    ...exitCodeOf(container.Status),
    networks: Object.keys(container.NetworkSettings?.Networks ?? {}),
    ...(container.HostConfig?.NetworkMode ? { networkMode: container.HostConfig.NetworkMode } : {}),
  };
}

interface RawStats {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  memory_stats?: {
    usage?: number;
    limit?: number;
    stats?: { inactive_file?: number; cache?: number };
  };
}

/** One line of the engine's event stream (JSON), if it is a container event. */
export function parseEngineEvent(line: string): ContainerEvent | undefined {
  if (!line.trim()) return undefined;
  try {
    const event = JSON.parse(line) as {
      Type?: string;
      Action?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    if (event.Type !== "container" || !event.Actor?.ID) return undefined;
    return {
      action: event.Action ?? "",
      id: event.Actor.ID,
      labels: event.Actor.Attributes ?? {},
    };
  } catch {
    return undefined;
  }
}

// A log stream cut into lines: without a TTY the engine frames stdout and stderr in
// 8-byte headers, which may be split across chunks like the lines themselves.
export class LineSplitter {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly partial = { stdout: "", stderr: "" };

  constructor(
    private readonly tty: boolean,
    private readonly onLine: (line: { stream: "stdout" | "stderr"; text: string }) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.tty) {
      this.text("stdout", chunk.toString("utf8"));
      return;
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    while (offset + 8 <= this.buffer.length) {
      const size = this.buffer.readUInt32BE(offset + 4);
      if (offset + 8 + size > this.buffer.length) break;
      const stream = this.buffer[offset] === 2 ? "stderr" : "stdout";
      this.text(stream, this.buffer.subarray(offset + 8, offset + 8 + size).toString("utf8"));
      offset += 8 + size;
    }
    this.buffer = this.buffer.subarray(offset);
  }

  flush(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream]) this.onLine({ stream, text: this.partial[stream] });
      this.partial[stream] = "";
    }
  }

  private text(stream: "stdout" | "stderr", text: string): void {
    const lines = (this.partial[stream] + text).split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.onLine({ stream, text: line.replace(/\r$/, "") });
  }
}

interface StreamEvent {
  stream?: unknown;
  error?: unknown;
}

function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent?: (event: StreamEvent) => void,
): Promise<StreamEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: StreamEvent[]) => (error ? reject(error) : resolve(output)),
      onEvent,
    );
  });
}

// An exited container's status text carries its code: "Exited (0) 3 seconds ago".
export function exitCodeOf(status: string): { exitCode?: number } {
  const match = /^Exited \((\d+)\)/.exec(status);
  return match ? { exitCode: Number(match[1]) } : {};
}

// Docker's status text carries the health in brackets: "Up 3 seconds (healthy)".
export function healthFromStatus(status: string): ContainerHealth {
  if (status.includes("(healthy)")) return "healthy";
  if (status.includes("(unhealthy)")) return "unhealthy";
  if (status.includes("(health: starting)")) return "starting";
  return "none";
}

// The logs endpoint multiplexes stdout and stderr in 8-byte framed chunks when the
// container has no TTY.
export function demuxToText(buffer: Buffer): string {
  const parts: string[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const streamType = buffer[offset];
    const size = buffer.readUInt32BE(offset + 4);
    if (streamType === undefined || streamType > 2 || offset + 8 + size > buffer.length) {
      return buffer.toString("utf8");
    }
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString("utf8"));
    offset += 8 + size;
  }
  return parts.join("");
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "statusCode" in error
    ? Number((error as { statusCode: unknown }).statusCode)
    : undefined;
}

/** False when the thing was already gone (another prodlike removed it meanwhile). */
async function ignoreNotFound(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return true;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return false;
  }
}
