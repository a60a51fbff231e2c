import { access, chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import {
  environmentDir,
  prepareEnvironmentDir,
  recordMountpoints,
  writeCodeFiles,
  writeIfChanged,
} from "../../env/generated-files.js";
import type { PortClaims } from "../../env/port-allocator.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { Label } from "../../topology/labels.js";
import { builtImagesOf, type Topology } from "../../topology/model.js";
import { redact } from "../../ui/redact.js";
import type { Progress, StepContext } from "../../ui/steps.js";
import type { Clock } from "../../waits/clock.js";
import { poll, WaitFailed } from "../../waits/wait.js";
import {
  type Backend,
  type DestroyOptions,
  type DestroyReport,
  type EnvironmentStatus,
  type ExecRequest,
  environmentNotFound,
  type MirroredLayout,
  type StreamExecRequest,
  type StreamExecResult,
  type UpOptions,
  type UpResult,
} from "../backend.js";
import type { ContainerConfig, ContainerInfo, DockerEngine } from "../docker/docker-engine.js";
import { waitForWebUrl } from "../web-wait.js";
import {
  type ComposeCommand,
  type ComposeFlavour,
  composeArgs,
  detectCompose,
} from "./compose-cli.js";
import type { ComposeDetectionCache } from "./compose-detection-cache.js";
import { decodePortsLabel, statusFromContainers } from "./status-from-containers.js";

export interface ComposeBackendDeps {
  runner: CommandRunner;
  engine: DockerEngine;
  clock: Clock;
  /** PRODLIKE_COMPOSE: force `v1` or `v2`. */
  composeOverride?: string | undefined;
  /** Remembers which compose was found (see compose-detection-cache.ts). */
  detectionCache?: { key: () => Promise<string>; cache: ComposeDetectionCache } | undefined;
}

const COMPOSE_FILE = "docker-compose.yml";
const STOP_TIMEOUT_SECONDS = 10;

// The docker compose backend: lifecycle through the compose CLI (v1 or v2), everything
// observed (health, ports, state) through the engine API by label.
export class ComposeBackend implements Backend {
  readonly name = "compose" as const;
  private flavour: ComposeFlavour | undefined;

  constructor(private readonly deps: ComposeBackendDeps) {}

  // Only the engine: finding compose costs a process start (a Python one for v1), and
  // status, ls and exec never need it.
  async preflight(): Promise<void> {
    await this.deps.engine.ping();
  }

  private async composeFlavour(): Promise<ComposeFlavour> {
    if (this.flavour) return this.flavour;
    const detection = this.deps.detectionCache;
    const key = detection ? await detection.key() : undefined;
    const cached = key && detection ? await detection.cache.get(key) : undefined;
    this.flavour = cached ?? (await detectCompose(this.deps.runner, this.deps.composeOverride));
    if (!cached && key && detection) await detection.cache.set(key, this.flavour);
    return this.flavour;
  }

  async portClaims(envId: string): Promise<PortClaims> {
    const containers = await this.deps.engine.listContainers({ [Label.managed]: "true" });
    const own: Record<string, number> = {};
    const others = new Set<number>();
    for (const container of containers) {
      if (container.labels[Label.env] === envId) {
        const named = decodePortsLabel(container.labels[Label.ports]);
        for (const published of container.ports) {
          const port = named.find(
            (candidate) => candidate.containerPort === published.containerPort,
          );
          if (port) own[port.name] = published.hostPort;
        }
      } else {
        for (const published of container.ports) others.add(published.hostPort);
      }
    }
    return { own, others };
  }

  async ownerCodeRoot(envId: string): Promise<string | undefined> {
    const containers = await this.envContainers(envId);
    return containers[0]?.labels[Label.codeRoot];
  }

  async up(topology: Topology, progress: Progress, options: UpOptions): Promise<UpResult> {
    const envId = topology.identity.id;
    const dir = environmentDir(topology.codeRoot, topology.identity.name);
    const composeFile = path.join(dir, COMPOSE_FILE);
    // Loaded here: rendering and building pull in yaml and the build helpers, which the
    // read-only commands (status, ls, exec) do not need at start-up.
    const [{ renderCompose }, { imageSteps }] = await Promise.all([
      import("../../topology/render-compose.js"),
      import("../docker/image-builder.js"),
    ]);
    const rendered = renderCompose(topology, { configDir: path.join(dir, "config") });
    const before = await this.envContainers(envId);

    if (!options.rebuild && isUpToDate(before, topology, rendered.configHash)) {
      await writeCodeFiles(topology, progress);
      // Containers up is not a working site: the page must answer too (a 503 or a PHP
      // fatal error is reported, not "up to date").
      await progress.run(
        webPortsOf(topology).map(({ service, url }) => ({
          title: `${service} answers on ${url}`,
          run: async (context: StepContext) => {
            await waitForWebUrl(url, this.deps.clock, {
              timeoutMs: options.healthTimeoutMs,
              intervalMs: 50,
              onDetail: (detail) => context.update(detail),
            });
          },
        })),
      );
      const status = await this.requireStatus(envId);
      return { status, changed: false };
    }

    const flavour = await this.composeFlavour();
    const uniqueImages = builtImagesOf(topology);
    const project = { name: envId, file: composeFile };

    try {
      await progress.run([
        {
          title: "Images",
          children: imageSteps(this.deps.engine, uniqueImages, {
            rebuild: options.rebuild,
            preset: topology.preset,
          }),
        },
        {
          title: "Write configuration",
          run: async () => {
            // Config files may hold the database password (local.xml): only this user
            // reaches them; containers get them through their bind mounts.
            await mkdir(path.join(dir, "config"), { recursive: true, mode: 0o700 });
            await chmod(path.join(dir, "config"), 0o700);
            for (const file of topology.configFiles) {
              // Read by the container's own user (Varnish's VCL compiler runs as vcache);
              // a file holding a secret (OpenMage's local.xml) stays the developer's alone.
              await writeIfChanged(
                path.join(dir, "config", file.name),
                file.content,
                file.secret ? 0o600 : 0o644,
              );
            }
            await prepareEnvironmentDir(topology.codeRoot, topology.identity.name);
            await writeIfChanged(composeFile, rendered.yaml, 0o600);
            await writeCodeFiles(topology, progress);
            await recordMountpoints(topology);
          },
        },
        {
          title: `Start containers (${describeFlavour(flavour)})`,
          run: async () => {
            await this.compose(project, { kind: "up" }, topology.secrets);
          },
        },
        {
          title: "Wait for services",
          concurrent: true,
          children: topology.services.map((service) => {
            const http = service.ports.find((port) => port.protocol === "http");
            return {
              title: service.name,
              run: async (context: StepContext) => {
                const onDetail = (detail: string) => context.update(detail);
                // A service with an HTTP port is ready when it answers over HTTP from the
                // host: what the user needs, and sooner than Docker's next health check.
                await this.waitForService(envId, service.name, {
                  timeoutMs: options.healthTimeoutMs,
                  secrets: topology.secrets,
                  requireHealthy: http === undefined,
                  onDetail,
                });
                if (http) {
                  await waitForWebUrl(webUrlOf(http), this.deps.clock, {
                    timeoutMs: options.healthTimeoutMs,
                    intervalMs: 50,
                    onDetail,
                  });
                  context.setTitle(`${service.name} answers on http://127.0.0.1:${http.hostPort}`);
                } else {
                  context.setTitle(`${service.name} ${service.health ? "healthy" : "running"}`);
                }
              },
            };
          }),
        },
      ]);
    } catch (error) {
      if (before.length === 0) {
        // A brand-new environment that failed to come up holds no data: remove what this
        // run made so a retry starts clean. An existing environment is left as it was.
        await this.teardown(envId, project).catch(() => undefined);
      }
      throw error;
    }
    return { status: await this.requireStatus(envId), changed: true };
  }

  async down(envId: string, progress: Progress): Promise<EnvironmentStatus> {
    const containers = await this.requireContainers(envId);
    const project = projectFor(envId, containers);
    await progress.run([
      {
        title: `Stop ${envId} (data kept)`,
        run: async () => {
          await this.compose(project, { kind: "stop", timeoutSeconds: STOP_TIMEOUT_SECONDS }, []);
        },
      },
    ]);
    return this.requireStatus(envId);
  }

  async destroy(
    envId: string,
    progress: Progress,
    options: DestroyOptions,
  ): Promise<DestroyReport> {
    // Found by label, not by containers alone: a failed `up` or a killed `destroy` can
    // leave a network or volumes with no container, and those must go too.
    const containers = await this.envContainers(envId);
    const [volumes, networks] = await Promise.all([
      this.deps.engine.listVolumes({ [Label.env]: envId }),
      this.deps.engine.listNetworks({ [Label.env]: envId }),
    ]);
    if (containers.length + volumes.length + networks.length === 0) {
      throw environmentNotFound(envId);
    }
    const project = containers.length > 0 ? projectFor(envId, containers) : undefined;
    const imageIds = new Set(containers.map((container) => container.imageId));
    const report: DestroyReport = { containers: [], volumes: [], networks: [], images: [] };

    await progress.run([
      {
        title: `Remove containers, volumes and network of ${envId}`,
        run: async () => {
          report.containers = containers.map((container) => container.name);
          report.volumes = volumes;
          report.networks = networks.map((network) => network.name);
          await this.teardown(envId, project);
        },
      },
      {
        title: options.keepImages
          ? "Keep images (--keep-images)"
          : "Remove images no other environment uses",
        run: async () => {
          if (options.keepImages) return;
          report.images = await this.removeUnusedImages(imageIds);
        },
      },
      {
        title: "Verify nothing is left",
        run: async () => {
          await this.verifyGone(envId, options.keepImages ? new Set() : imageIds);
          const codeRoot = containers[0]?.labels[Label.codeRoot];
          const name = containers[0]?.labels[Label.name];
          if (codeRoot && name)
            await rm(environmentDir(codeRoot, name), { recursive: true, force: true });
        },
      },
    ]);
    return report;
  }

  async status(envId: string): Promise<EnvironmentStatus | undefined> {
    return statusFromContainers(await this.envContainers(envId));
  }

  async list(): Promise<EnvironmentStatus[]> {
    const containers = await this.deps.engine.listContainers({
      [Label.managed]: "true",
      [Label.backend]: "compose",
    });
    const byEnv = new Map<string, ContainerInfo[]>();
    for (const container of containers) {
      const id = container.labels[Label.env];
      if (!id) continue;
      byEnv.set(id, [...(byEnv.get(id) ?? []), container]);
    }
    return [...byEnv.values()]
      .map((group) => statusFromContainers(group))
      .filter((status): status is EnvironmentStatus => status !== undefined)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async exec(envId: string, request: ExecRequest): Promise<number> {
    const container = await this.runningContainer(envId, request.service);
    const args = [
      "exec",
      "--interactive",
      ...(request.tty ? ["--tty"] : []),
      ...(request.workdir ? ["--workdir", request.workdir] : []),
      container.id,
      ...request.command,
    ];
    const result = await this.deps.runner.run("docker", args, { stdio: "inherit" });
    if (result.notFound) throw dockerCliMissing();
    return result.exitCode;
  }

  async restartService(envId: string, service: string, timeoutMs: number): Promise<void> {
    const container = await this.runningContainer(envId, service);
    const result = await this.deps.runner.run("docker", [
      "restart",
      "--time",
      String(STOP_TIMEOUT_SECONDS),
      container.id,
    ]);
    if (result.notFound) throw dockerCliMissing();
    if (result.exitCode !== 0) {
      throw new ProdlikeError("COMMAND_FAILED", `docker restart ${service} failed`, {
        hint: result.stderr,
      });
    }
    // Ready when the service's own health command passes, run here every 100 ms: after a
    // restart Docker runs its first check only one whole interval later.
    const healthCommand = await this.healthCommand(container.id);
    await this.waitForService(envId, service, {
      timeoutMs,
      secrets: [],
      requireHealthy: healthCommand === undefined,
      ...(healthCommand ? { healthCommand } : {}),
      onDetail: () => undefined,
    });
  }

  /** The container's health check as an exec argv (undefined: it has none). */
  private async healthCommand(containerId: string): Promise<string[] | undefined> {
    const result = await this.deps.runner.run("docker", [
      "inspect",
      "--format",
      "{{json .Config.Healthcheck}}",
      containerId,
    ]);
    return result.exitCode === 0 ? healthCommandOf(result.stdout) : undefined;
  }

  async execStream(envId: string, request: StreamExecRequest): Promise<StreamExecResult> {
    const container = await this.runningContainer(envId, request.service);
    const args = [
      "exec",
      ...(request.stdin ? ["--interactive"] : []),
      container.id,
      ...request.command,
    ];
    const result = await this.deps.runner.stream("docker", args, {
      ...(request.stdin ? { stdin: request.stdin } : {}),
      ...(request.stdout ? { stdout: request.stdout } : {}),
    });
    if (result.notFound) throw dockerCliMissing();
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  private async runningContainer(envId: string, service: string): Promise<ContainerInfo> {
    const containers = await this.requireContainers(envId);
    const container = containers.find((candidate) => candidate.labels[Label.service] === service);
    if (!container) {
      const known = containers.map((candidate) => candidate.labels[Label.service]).join(", ");
      throw new ProdlikeError(
        "SERVICE_NOT_FOUND",
        `Environment ${envId} has no service \`${service}\``,
        {
          hint: `Its services: ${known}.`,
        },
      );
    }
    if (container.state !== "running") {
      throw new ProdlikeError(
        "SERVICE_NOT_RUNNING",
        `Service ${service} of ${envId} is ${container.state}`,
        {
          hint: "Start the environment with `prodlike up`.",
        },
      );
    }
    return container;
  }

  async logs(
    envId: string,
    services: string[],
    options: { follow: boolean; tail: number },
  ): Promise<number> {
    const containers = await this.requireContainers(envId);
    const project = projectFor(envId, containers);
    const flavour = await this.composeFlavour();
    const result = await this.deps.runner.run(
      flavour.file,
      composeArgs(flavour, project, {
        kind: "logs",
        follow: options.follow,
        tail: options.tail,
        services,
      }),
      { stdio: "inherit" },
    );
    return result.exitCode;
  }

  private async waitForService(
    envId: string,
    service: string,
    options: {
      timeoutMs: number;
      secrets: readonly string[];
      /** Wait for Docker's health check; otherwise running (and not unhealthy) is enough. */
      requireHealthy: boolean;
      /** Once running, ready when this command exits 0 in the container. */
      healthCommand?: string[];
      onDetail: (detail: string) => void;
    },
  ): Promise<void> {
    const { timeoutMs, secrets, onDetail } = options;
    const strategy = poll(
      service,
      async () => {
        const [container] = await this.deps.engine.listContainers({
          [Label.env]: envId,
          [Label.service]: service,
        });
        if (!container) return { done: false, detail: "no container yet" };
        if (container.state === "exited" || container.state === "dead") {
          return { failed: true, reason: `container ${container.state}` };
        }
        if (container.state !== "running") return { done: false, detail: container.state };
        if (container.health === "unhealthy")
          return { failed: true, reason: "health check failing" };
        if (container.health === "starting" && options.requireHealthy) {
          return { done: false, detail: "health: starting" };
        }
        if (options.healthCommand) {
          const check = await this.deps.runner.run("docker", [
            "exec",
            container.id,
            ...options.healthCommand,
          ]);
          if (check.exitCode !== 0)
            return { done: false, detail: "health command not passing yet" };
        }
        return { done: true };
      },
      { timeoutMs, intervalMs: 100 },
    );
    try {
      await strategy.wait(this.deps.clock, onDetail);
    } catch (error) {
      if (!(error instanceof WaitFailed)) throw error;
      const [container] = await this.deps.engine.listContainers({
        [Label.env]: envId,
        [Label.service]: service,
      });
      const logs = container
        ? await this.deps.engine.containerLogs(container.id, 30).catch(() => "")
        : "";
      throw new ProdlikeError(
        "HEALTH_TIMEOUT",
        `Service ${service} did not become ready: ${error.reason}`,
        {
          hint: `Last log lines of ${service}:\n${redact(logs.trimEnd(), secrets) || "(none)"}\nMore: prodlike logs ${service}`,
          data: { service, timedOut: error.timedOut },
        },
      );
    }
  }

  async runningConfigs(
    envId: string,
  ): Promise<{ labels: Record<string, string>; config: ContainerConfig }[]> {
    const containers = await this.requireContainers(envId);
    return Promise.all(
      containers.map(async (container) => ({
        labels: container.labels,
        config: await this.deps.engine.inspectContainer(container.id),
      })),
    );
  }

  /**
   * Runs the compose project `prodlike mirror` derived as the environment (`up --mirror`:
   * production's layout), then waits until every long-running container runs
   * (init containers and jobs may exit 0) and the web URL answers.
   */
  async upMirrored(
    layout: MirroredLayout,
    progress: Progress,
    options: { healthTimeoutMs: number },
  ): Promise<EnvironmentStatus> {
    const envId = layout.identity.id;
    const webUrl = layout.compose.url;
    const flavour = await this.composeFlavour();
    const project = { name: envId, file: layout.compose.file };
    await progress.run([
      {
        title: `Start production's layout (${describeFlavour(flavour)})`,
        run: async () => {
          // Production's secret values never reach the project (mirror replaced them).
          await this.compose(project, { kind: "up" }, []);
        },
      },
      {
        title: "Wait for containers",
        run: async () => {
          const strategy = poll(
            envId,
            async () => {
              const containers = await this.deps.engine.listContainers({ [Label.env]: envId });
              const starting = containers.filter(
                (container) => container.state !== "running" && container.state !== "exited",
              );
              if (starting.length > 0) {
                return { done: false, detail: `${starting.length} container(s) starting` };
              }
              return { done: true };
            },
            { timeoutMs: options.healthTimeoutMs, intervalMs: 200 },
          );
          await strategy.wait(this.deps.clock, () => undefined);
          if (webUrl) {
            await waitForWebUrl(webUrl, this.deps.clock, {
              timeoutMs: options.healthTimeoutMs,
              intervalMs: 100,
              onDetail: () => undefined,
            });
          }
        },
      },
    ]);
    return this.requireStatus(envId);
  }

  private async compose(
    project: { name: string; file: string },
    command: ComposeCommand,
    secrets: readonly string[],
  ): Promise<void> {
    const flavour = await this.composeFlavour();
    const args = composeArgs(flavour, project, command);
    const result = await this.deps.runner.run(flavour.file, args, {
      cwd: path.dirname(project.file),
    });
    if (result.exitCode !== 0) {
      const output = redact(`${result.stderr}\n${result.stdout}`.trim(), secrets);
      const portTaken = /port is already allocated|address already in use/i.test(output);
      throw new ProdlikeError(
        portTaken ? "PORT_UNAVAILABLE" : "COMPOSE_FAILED",
        `${flavour.file} ${command.kind} failed (exit ${result.exitCode})`,
        {
          hint: portTaken
            ? "Another program took a port between allocation and start; run prodlike up again."
            : output.split("\n").slice(-15).join("\n"),
        },
      );
    }
  }

  // compose down when the file is there, then a sweep by label for anything left (a
  // deleted checkout, a crashed run).
  private async teardown(
    envId: string,
    project: { name: string; file: string } | undefined,
  ): Promise<void> {
    const hasFile =
      project !== undefined &&
      (await access(project.file).then(
        () => true,
        () => false,
      ));
    if (hasFile && project) {
      await this.compose(
        project,
        { kind: "down", removeVolumes: true, timeoutSeconds: STOP_TIMEOUT_SECONDS },
        [],
      ).catch(() => undefined);
    }
    const engine = this.deps.engine;
    for (const container of await engine.listContainers({ [Label.env]: envId }))
      await engine.removeContainer(container.id);
    for (const volume of await engine.listVolumes({ [Label.env]: envId }))
      await engine.removeVolume(volume);
    for (const network of await engine.listNetworks({ [Label.env]: envId }))
      await engine.removeNetwork(network.id);
  }

  private async removeUnusedImages(imageIds: ReadonlySet<string>): Promise<string[]> {
    const engine = this.deps.engine;
    const stillUsed = new Set(
      (await engine.listContainers({})).map((container) => container.imageId),
    );
    const managed = await engine.listImages({ [Label.managed]: "true" });
    const removed: string[] = [];
    for (const image of managed) {
      if (!imageIds.has(image.id) || stillUsed.has(image.id)) continue;
      // By tag: one image can carry several (two presets building identical contexts),
      // and the engine refuses to delete such an image by its id. The last tag removed
      // removes the image.
      for (const reference of image.tags.length > 0 ? image.tags : [image.id]) {
        await engine.removeImage(reference);
      }
      removed.push(...(image.tags.length > 0 ? image.tags : [image.id]));
    }
    return removed;
  }

  private async verifyGone(envId: string, imageIds: ReadonlySet<string>): Promise<void> {
    const engine = this.deps.engine;
    const left = [
      ...(await engine.listContainers({ [Label.env]: envId })).map((c) => `container ${c.name}`),
      ...(await engine.listVolumes({ [Label.env]: envId })).map((v) => `volume ${v}`),
      ...(await engine.listNetworks({ [Label.env]: envId })).map((n) => `network ${n.name}`),
    ];
    if (imageIds.size > 0) {
      const stillUsed = new Set(
        (await engine.listContainers({})).map((container) => container.imageId),
      );
      for (const image of await engine.listImages({ [Label.managed]: "true" })) {
        if (imageIds.has(image.id) && !stillUsed.has(image.id))
          left.push(`image ${image.tags[0] ?? image.id}`);
      }
    }
    if (left.length > 0) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `destroy left resources of ${envId} behind: ${left.join(", ")}`,
        {
          hint: "Remove them with docker rm/volume rm/network rm, and report this as a bug.",
        },
      );
    }
  }

  private async envContainers(envId: string): Promise<ContainerInfo[]> {
    return this.deps.engine.listContainers({ [Label.env]: envId });
  }

  private async requireContainers(envId: string): Promise<ContainerInfo[]> {
    const containers = await this.envContainers(envId);
    if (containers.length === 0) {
      throw environmentNotFound(envId);
    }
    return containers;
  }

  private async requireStatus(envId: string): Promise<EnvironmentStatus> {
    const status = await this.status(envId);
    if (!status) throw environmentNotFound(envId);
    return status;
  }
}

function dockerCliMissing(): ProdlikeError {
  return new ProdlikeError(
    "TOOL_MISSING",
    "The docker CLI is needed for exec, shell, drush and db",
    {
      hint: "Install the Docker CLI (Debian: apt-get install docker.io).",
    },
  );
}

function describeFlavour(flavour: ComposeFlavour): string {
  return [flavour.file, ...flavour.prefix, flavour.versionText].join(" ");
}

/** Where `up` checks a service with an HTTP port: its health path on the published port. */
function webUrlOf(port: { hostPort: number; healthPath?: string }): string {
  return `http://127.0.0.1:${port.hostPort}${port.healthPath ?? "/"}`;
}

function webPortsOf(topology: Topology): { service: string; url: string }[] {
  return topology.services.flatMap((service) =>
    service.ports
      .filter((port) => port.protocol === "http")
      .map((port) => ({ service: service.name, url: webUrlOf(port) })),
  );
}

function projectFor(
  envId: string,
  containers: readonly ContainerInfo[],
): { name: string; file: string } {
  const codeRoot = containers[0]?.labels[Label.codeRoot] ?? "";
  const name = containers[0]?.labels[Label.name] ?? "";
  return { name: envId, file: path.join(environmentDir(codeRoot, name), COMPOSE_FILE) };
}

// Up to date: one running, healthy container per service, all rendered from the same
// configuration hash. Then `up` has nothing to do.
export function isUpToDate(
  containers: readonly ContainerInfo[],
  topology: Topology,
  configHash: string,
): boolean {
  if (containers.length !== topology.services.length) return false;
  return topology.services.every((service) => {
    const container = containers.find(
      (candidate) => candidate.labels[Label.service] === service.name,
    );
    return (
      container !== undefined &&
      container.state === "running" &&
      container.labels[Label.configHash] === configHash &&
      (container.health === "healthy" || (container.health === "none" && !service.health))
    );
  });
}

/**
 * `docker inspect`'s health check (`{"Test":["CMD-SHELL","…"],…}`) as an exec argv;
 * undefined when there is none or it is switched off.
 */
export function healthCommandOf(inspectJson: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inspectJson);
  } catch {
    return undefined;
  }
  const test = (parsed as { Test?: unknown } | null)?.Test;
  if (!Array.isArray(test) || !test.every((part) => typeof part === "string")) return undefined;
  const [kind, ...rest] = test as string[];
  if (kind === "CMD" && rest.length > 0) return rest;
  if (kind === "CMD-SHELL" && rest.length === 1) return ["sh", "-c", rest[0] ?? ""];
  return undefined;
}
