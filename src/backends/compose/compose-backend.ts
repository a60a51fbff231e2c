import path from "node:path";
import type { PortClaims } from "../../env/port-allocator.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { Label } from "../../topology/labels.js";
import type { Topology } from "../../topology/model.js";
import type { Progress } from "../../ui/steps.js";
import { byCodePoint } from "../../ui/text-order.js";
import type { Clock } from "../../waits/clock.js";
import {
  type Backend,
  type DestroyOptions,
  type DestroyReport,
  type EnvironmentStatus,
  type ExecRequest,
  environmentNotFound,
  type KeptRelease,
  type LogOptions,
  noPreviousRelease,
  type RestartOptions,
  type RunningState,
  type Seed,
  type SeedExport,
  type SeedLayering,
  type ServiceLogLine,
  type ServiceUsage,
  type StreamExecRequest,
  type StreamExecResult,
  type UpOptions,
  type UpResult,
} from "../backend.js";
import type { ContainerInfo, DockerEngine } from "../docker/docker-engine.js";
import type { ImageClaims } from "../docker/image-claims.js";
import type { ComposeDetectionCache } from "./compose-detection-cache.js";
import { composeUsage, followComposeLogs, serviceMissing } from "./compose-observe.js";
import { ComposeCli, composeContainerOf, projectOfContainers } from "./compose-project.js";
import { destroyCompose, STOP_TIMEOUT_SECONDS } from "./compose-teardown.js";
import { healthCommandOf, waitForService } from "./container-waits.js";
import { decodePortsLabel, statusFromContainers } from "./status-from-containers.js";

export interface ComposeBackendDeps {
  runner: CommandRunner;
  engine: DockerEngine;
  clock: Clock;
  /** PRODLIKE_COMPOSE: force `v1` or `v2`. */
  composeOverride?: string | undefined;
  /** Remembers which compose was found (see compose-detection-cache.ts). */
  detectionCache?: { key: () => Promise<string>; cache: ComposeDetectionCache } | undefined;
  /** Images other `up`s on the engine are about to use (kept by a destroy). */
  images?: ImageClaims | undefined;
}

// The docker compose backend: lifecycle through the compose CLI (v1 or v2), everything
// observed (health, ports, state) through the engine API by label. Each job lives in its
// own module: deploy (compose-deploy), waits (container-waits), teardown
// (compose-teardown), the CLI (compose-project); this class wires them.
export class ComposeBackend implements Backend {
  readonly name = "compose" as const;
  readonly layeredSeeds = true;
  private readonly cli: ComposeCli;

  constructor(private readonly deps: ComposeBackendDeps) {
    this.cli = new ComposeCli(deps);
  }

  // Only the engine: finding compose costs a process start (a Python one for v1), and
  // status, ls and exec never need it.
  async preflight(): Promise<void> {
    await this.deps.engine.ping();
  }

  // A stopped container lists no ports, yet takes its own back when it starts: its
  // configured bindings count, so an environment keeps its ports across down/up and
  // machine restarts, and no other takes them meanwhile.
  async portClaims(envId: string): Promise<PortClaims> {
    const containers = await this.deps.engine.listContainers({ [Label.managed]: "true" });
    const own: Record<string, number> = {};
    const ownStopped = new Set<string>();
    const others = new Set<number>();
    for (const container of containers) {
      const running = container.state === "running";
      const bound = running ? container.ports : await this.deps.engine.portBindings(container.id);
      if (container.labels[Label.env] === envId) {
        const named = decodePortsLabel(container.labels[Label.ports]);
        for (const published of bound) {
          const port = named.find(
            (candidate) => candidate.containerPort === published.containerPort,
          );
          if (!port) continue;
          own[port.name] = published.hostPort;
          if (!running) ownStopped.add(port.name);
        }
      } else {
        for (const published of bound) others.add(published.hostPort);
      }
    }
    return { own, ownStopped, others };
  }

  async ownerCodeRoot(envId: string): Promise<string | undefined> {
    const containers = await this.envContainers(envId);
    return composeContainerOf(envId, containers)?.labels[Label.codeRoot];
  }

  async up(topology: Topology, progress: Progress, options: UpOptions): Promise<UpResult> {
    const { deployCompose } = await import("./compose-deploy.js");
    const changed = await deployCompose(
      { runner: this.deps.runner, engine: this.deps.engine, clock: this.deps.clock, cli: this.cli },
      topology,
      progress,
      options,
    );
    return { status: await this.requireStatus(topology.identity.id), changed };
  }

  async seeds(): Promise<Seed[]> {
    return (await this.seedVolumes()).list();
  }

  async createSeed(request: SeedExport): Promise<void> {
    await (await this.seedVolumes()).create(request);
  }

  async layerOnSeed(
    topology: Topology,
    request: { volume: string; seed: string; check: string },
  ): Promise<SeedLayering> {
    return (await this.seedVolumes()).layer(topology, request);
  }

  async removeUnusedSeeds(): Promise<string[]> {
    return (await this.seedVolumes()).removeUnused();
  }

  private async seedVolumes() {
    const { SeedVolumes } = await import("./seed-volumes.js");
    return new SeedVolumes(this.deps.runner, this.deps.engine);
  }

  // The routes are on the containers themselves (the routes label).
  async routeTargets(): Promise<undefined> {
    return undefined;
  }

  // Published ports and bind mounts need no process of prodlike's to keep them.
  async serve(): Promise<boolean> {
    return false;
  }

  async previousRelease(envId: string): Promise<KeptRelease | undefined> {
    const project = projectOfContainers(envId, await this.requireContainers(envId));
    const { composeReleases } = await import("./compose-release.js");
    return composeReleases(path.dirname(project.file)).kept();
  }

  async releases(envId: string): Promise<(KeptRelease & { id: string })[]> {
    // Read from the listing of every prodlike container, not this environment's own:
    // `ls --json` asks this of every environment at once, and the engine adapter answers
    // those identical questions with one query.
    const containers = (await this.deps.engine.listContainers({ [Label.managed]: "true" })).filter(
      (container) => container.labels[Label.env] === envId,
    );
    if (containers.length === 0) throw environmentNotFound(envId);
    const project = projectOfContainers(envId, containers);
    const { composeReleases } = await import("./compose-release.js");
    return composeReleases(path.dirname(project.file)).list();
  }

  async rollback(
    envId: string,
    progress: Progress,
    options: { healthTimeoutMs: number; dataSnapshot?: string; to?: string },
  ): Promise<EnvironmentStatus> {
    const project = projectOfContainers(envId, await this.requireContainers(envId));
    const dir = path.dirname(project.file);
    const { composeReleases, releaseServices } = await import("./compose-release.js");
    const releases = composeReleases(dir);
    await progress.run([
      {
        title: `Switch to ${options.to ? `release ${options.to}` : "the previous release"} (its images and configuration; the data kept)`,
        run: async (context) => {
          // An `up` killed while it tried a release: going back means to the release that
          // ran before that attempt (it was set aside), and that is all a plain rollback
          // does; with --to or --data the switch goes on from there.
          const recovered = await releases.putBack();
          if (recovered && !options.to && !options.dataSnapshot) {
            context.setTitle("Back on the release that ran before an interrupted `up`");
          } else {
            if (options.to) await releases.promote(options.to);
            const release = await releases.swap(
              options.dataSnapshot ? { dataSnapshot: options.dataSnapshot } : {},
            );
            if (!release) {
              throw noPreviousRelease(envId);
            }
          }
          await this.cli.run(project, { kind: "up" }, []);
          for (const service of await releaseServices(dir)) {
            await this.waitHealthy(envId, service, options.healthTimeoutMs);
          }
        },
      },
    ]);
    return this.requireStatus(envId);
  }

  // A service of a release started again is healthy, or done when it runs once (a
  // migration that exited 0).
  private waitHealthy(envId: string, service: string, timeoutMs: number): Promise<void> {
    return waitForService(this.deps.engine, this.deps.clock, envId, service, {
      timeoutMs,
      secrets: [],
      requireHealthy: true,
      runsOnce: true,
      onDetail: () => undefined,
    });
  }

  async down(envId: string, progress: Progress): Promise<EnvironmentStatus> {
    const containers = await this.requireContainers(envId);
    const project = projectOfContainers(envId, containers);
    await progress.run([
      {
        title: `Stop ${envId} (data kept)`,
        run: async () => {
          await this.cli.run(project, { kind: "stop", timeoutSeconds: STOP_TIMEOUT_SECONDS }, []);
        },
      },
    ]);
    return this.requireStatus(envId);
  }

  async start(
    envId: string,
    progress: Progress,
    options: { healthTimeoutMs: number },
  ): Promise<EnvironmentStatus> {
    const containers = await this.requireContainers(envId);
    const project = projectOfContainers(envId, containers);
    const services = [
      ...new Set(containers.map((container) => container.labels[Label.service] ?? "")),
    ].filter((service) => service !== "");
    await progress.run([
      {
        title: `Start ${envId} as it was (data, ports and names kept)`,
        run: async () => {
          await this.cli.run(project, { kind: "start" }, []);
        },
      },
      {
        title: "Wait for services",
        concurrent: true,
        children: services.map((service) => ({
          title: service,
          run: () => this.waitHealthy(envId, service, options.healthTimeoutMs),
        })),
      },
    ]);
    return this.requireStatus(envId);
  }

  async destroy(
    envId: string,
    progress: Progress,
    options: DestroyOptions,
  ): Promise<DestroyReport> {
    return destroyCompose(this.deps.engine, this.cli, envId, progress, {
      ...options,
      ...(this.deps.images ? { images: this.deps.images } : {}),
    });
  }

  async status(envId: string): Promise<EnvironmentStatus | undefined> {
    // From every container prodlike labels, as list() does: `status` reads the router's
    // state at the same moment, which asks the engine the same question, and the adapter
    // answers both with one query.
    const containers = await this.deps.engine.listContainers({ [Label.managed]: "true" });
    return statusFromContainers(
      containers.filter((container) => container.labels[Label.env] === envId),
    );
  }

  async list(): Promise<EnvironmentStatus[]> {
    // Every container prodlike labels, the compose ones picked here: the router's state
    // asks the engine the same question, and the adapter answers both with one query.
    const containers = await this.deps.engine.listContainers({ [Label.managed]: "true" });
    const byEnv = new Map<string, ContainerInfo[]>();
    for (const container of containers) {
      const id = container.labels[Label.env];
      if (!id || container.labels[Label.backend] !== "compose") continue;
      byEnv.set(id, [...(byEnv.get(id) ?? []), container]);
    }
    return [...byEnv.values()]
      .map((group) => statusFromContainers(group))
      .filter((status): status is EnvironmentStatus => status !== undefined)
      .sort((a, b) => byCodePoint(a.id, b.id));
  }

  // exec and execStream go through the docker CLI, not the engine adapter: it attaches a
  // terminal (raw mode, resize) and streams stdin and stdout at full speed (a dump of
  // hundreds of MB), which the CLI does well and dockerode's hijacked streams do not.
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

  async restartService(
    envId: string,
    service: string,
    timeoutMs: number,
    options: RestartOptions = {},
  ): Promise<void> {
    const container = await this.runningContainer(envId, service);
    const { engine, clock } = this.deps;
    // Read before the restart: ready when the service's own health command passes, run
    // here every 100 ms (after a restart Docker runs its first check only one whole
    // interval later).
    const healthCommand = healthCommandOf((await engine.inspectContainer(container.id)).healthTest);
    // Immediate: SIGKILL at once (docker's stop timeout 0); the engine starts it again.
    await engine.restartContainer(container.id, options.immediate ? 0 : STOP_TIMEOUT_SECONDS);
    await waitForService(engine, clock, envId, service, {
      timeoutMs,
      secrets: [],
      requireHealthy: healthCommand === undefined,
      ...(healthCommand ? { healthCommand } : {}),
      onDetail: () => undefined,
    });
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
    if (!container) throw serviceMissing(envId, service, containers);
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

  async logs(envId: string, services: string[], options: LogOptions): Promise<number> {
    const project = projectOfContainers(envId, await this.requireContainers(envId));
    return this.cli.attached(project, { kind: "logs", ...options, services });
  }

  async followLogLines(
    envId: string,
    services: string[],
    options: { tail: number; signal: AbortSignal },
    onLine: (line: ServiceLogLine) => void,
  ): Promise<void> {
    const containers = await this.requireContainers(envId);
    await followComposeLogs(this.deps.engine, envId, containers, services, options, onLine);
  }

  async usage(envId: string): Promise<ServiceUsage[]> {
    return composeUsage(this.deps.engine, await this.envContainers(envId));
  }

  async running(envId: string): Promise<RunningState> {
    const containers = await this.requireContainers(envId);
    return {
      shape: "containers",
      containers: await Promise.all(
        containers.map(async (container) => ({
          labels: container.labels,
          config: await this.deps.engine.inspectContainer(container.id),
        })),
      ),
    };
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
