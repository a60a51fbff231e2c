import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import {
  environmentDir,
  prepareEnvironmentDir,
  recordMountpoints,
  writeCodeFiles,
  writeIfChanged,
} from "../../env/generated-files.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { Label } from "../../topology/labels.js";
import {
  builtImagesOf,
  type ConfigFile,
  type PortSpec,
  type ServiceSpec,
  servicesExplaining,
  type Topology,
} from "../../topology/model.js";
import type { Progress, Step, StepContext } from "../../ui/steps.js";
import type { Clock } from "../../waits/clock.js";
import type { UpOptions } from "../backend.js";
import type { DockerEngine } from "../docker/docker-engine.js";
import { keptDataSteps, type ReleaseFiles, rollBackAfter } from "../release-files.js";
import { waitForWebUrl } from "../web-wait.js";
import { COMPOSE_FILE, type ComposeCli, type ComposeProject } from "./compose-project.js";
import { composeReleases, recordReleaseImages, releaseServices } from "./compose-release.js";
import { changedServices, isUpToDate, waitForService } from "./container-waits.js";

// `up` on compose, for a topology from either importer: render, and when anything
// differs from what runs, build images, write the config, start, wait for every service
// and the web URL. Only the services whose own inputs changed are recreated (each
// container carries its own configuration hash). A brand-new environment that fails is
// left for diagnosis (its logs say why); core removes it when asked (--rm-on-failure).

export interface DeployDeps {
  runner: CommandRunner;
  engine: DockerEngine;
  clock: Clock;
  cli: ComposeCli;
}

/** Resolves whether anything changed. */
export async function deployCompose(
  deps: DeployDeps,
  topology: Topology,
  progress: Progress,
  options: UpOptions,
): Promise<boolean> {
  const envId = topology.identity.id;
  const dir = environmentDir(topology.codeRoot, topology.identity.name);
  const project: ComposeProject = { name: envId, file: path.join(dir, COMPOSE_FILE) };
  // Loaded here: rendering and building pull in yaml and the build helpers, which the
  // read-only commands (status, ls, exec) do not need at start-up.
  const [{ renderCompose }, { loadComposeBase }, { imageSteps }] = await Promise.all([
    import("../../topology/render-compose.js"),
    import("../../topology/compose-base.js"),
    import("../docker/image-builder.js"),
  ]);
  const { SeedVolumes } = await import("./seed-volumes.js");
  const rendered = renderCompose(topology, {
    configDir: path.join(dir, "config"),
    base: await loadComposeBase(),
    // A volume layered on a seed was made by `up --seed-from`, before compose ran.
    externalVolumes: await new SeedVolumes(deps.runner, deps.engine).layeredVolumes(envId),
  });
  // An `up` killed while it tried a release left the one that ran before set aside: it
  // is put back first, so what runs is compared with (and kept as) the last release that
  // came up, never with a half-applied attempt.
  const releases = composeReleases(dir, options.keepReleases);
  await releases.putBack();
  const before = await deps.engine.listContainers({ [Label.env]: envId });

  if (!options.rebuild && isUpToDate(before, topology, rendered.serviceHashes)) {
    await writeCodeFiles(topology, progress);
    // Containers up is not a working site: the page must answer too (a 503 or a PHP
    // fatal error is reported, not "up to date").
    await progress.run(
      webPorts(topology).map(({ service, port }) => ({
        title: `${service.name} answers on ${webUrlOf(port)}`,
        run: async (context: StepContext) => {
          await waitForWeb(deps, topology, service, port, options, (detail) =>
            context.update(detail),
          );
        },
      })),
    );
    return false;
  }

  // Images are built while the old containers keep serving; the files they run from are
  // set aside as the release to go back to before the new ones are written.
  const replaced = new Set(changedServices(before, topology, rendered.serviceHashes));
  const incoming =
    before.length > 0 && options.keepRelease !== false ? await releases.begin() : undefined;
  // The data is kept from the old database before anything new runs; its preparation
  // runs in the database's container, so it waits for the new release when that
  // container is one of those being replaced (it would be killed halfway).
  const keptData =
    incoming && options.beforeSwitch
      ? keptDataSteps(releases, options.beforeSwitch, progress, {
          prepareAfterStart: topology.services.some(
            (service) => service.role === "db" && replaced.has(service.name),
          ),
        })
      : undefined;
  let switched = false;
  try {
    await progress.run([
      {
        title: "Images",
        children: imageSteps(deps.engine, builtImagesOf(topology), {
          rebuild: options.rebuild,
          preset: topology.preset,
        }),
      },
      ...(keptData ? [keptData.before] : []),
      {
        title: "Write configuration",
        run: async () => {
          switched = true;
          await recordReleaseImages(
            dir,
            builtImagesOf(topology).map((image) => image.tag),
          );
          await writeConfiguration(topology, rendered.configFiles, dir);
          await writeIfChanged(project.file, rendered.yaml, 0o600);
          await writeCodeFiles(topology, progress);
          await recordMountpoints(topology);
        },
      },
      {
        title: startTitle(await deps.cli.describe(), before.length > 0 ? replaced : undefined),
        run: async () => {
          await deps.cli.run(project, { kind: "up" }, topology.secrets);
        },
      },
      {
        title: "Wait for services",
        concurrent: true,
        children: topology.services.map((service) =>
          serviceWaitStep(deps, topology, service, options),
        ),
      },
      ...(keptData ? [keptData.after] : []),
    ]);
    await releases.commit();
  } catch (error) {
    await keptData?.settle();
    if (incoming && switched) {
      await rollBack(deps, topology, { project, releases }, options, progress, error);
    }
    await releases.abandon();
    throw error;
  }
  return true;
}

function startTitle(compose: string, replaced: ReadonlySet<string> | undefined): string {
  if (!replaced) return `Start containers (${compose})`;
  return replaced.size > 0
    ? `Recreate ${[...replaced].join(", ")} (${compose}); the others keep running`
    : `Start containers (${compose})`;
}

// The new release did not come up: the files of the release it replaced back, started
// again on the same volumes (the data written meanwhile is kept), waited for, and said so
// with its own exit code. A build failure never gets here: nothing was switched yet.
async function rollBack(
  deps: DeployDeps,
  topology: Topology,
  target: { project: ComposeProject; releases: ReleaseFiles },
  options: UpOptions,
  progress: Progress,
  failure: unknown,
): Promise<never> {
  const names = new Set(await releaseServices(target.releases.incoming));
  return rollBackAfter(topology.identity.id, failure, () =>
    progress.run([
      {
        title:
          "Roll back to the release that ran before (its images and configuration; the data kept)",
        run: async () => {
          await target.releases.putBack();
          await deps.cli.run(target.project, { kind: "up" }, topology.secrets);
          // docker-compose 1.x renames a container it replaces to ID_NAME first; when the
          // new one cannot even be created, the old one runs on under that name, and
          // `exec`, logs by name and the next up's comparison miss it. Made again under
          // its own name, from the release put back.
          const renamed = await setAsideContainers(deps.engine, target.project.name);
          if (renamed.length > 0) {
            await deps.cli.run(target.project, { kind: "up", recreate: renamed }, topology.secrets);
          }
        },
      },
      {
        title: "Wait for the release that ran before",
        concurrent: true,
        children: topology.services
          .filter((service) => names.has(service.name))
          .map((service) => serviceWaitStep(deps, topology, service, options)),
      },
    ]),
  );
}

/** Services whose container runs under the name compose 1.x gives one it is replacing. */
async function setAsideContainers(engine: DockerEngine, project: string): Promise<string[]> {
  const containers = await engine.listContainers({ "com.docker.compose.project": project });
  return containers
    .filter((container) => /^[0-9a-f]{12}_/.test(container.name.replace(/^\//, "")))
    .map((container) => container.labels["com.docker.compose.service"] ?? "")
    .filter((service) => service !== "");
}

async function writeConfiguration(
  topology: Topology,
  configFiles: readonly ConfigFile[],
  dir: string,
): Promise<void> {
  // Config files may hold the database password (local.xml): only this user reaches the
  // folder; containers get them through their bind mounts.
  const configDir = path.join(dir, "config");
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await chmod(configDir, 0o700);
  for (const file of configFiles) {
    const target = path.join(configDir, file.name);
    // A mirrored ConfigMap's keys sit in a folder of their own, mounted whole.
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    // Read by the container's own user (Varnish's VCL compiler runs as vcache); a file
    // holding a secret (OpenMage's local.xml, a mirrored Secret) stays the developer's.
    await writeIfChanged(target, file.content, file.secret ? 0o600 : 0o644);
  }
  await prepareEnvironmentDir(topology.codeRoot, topology.identity.name);
}

function serviceWaitStep(
  deps: DeployDeps,
  topology: Topology,
  service: ServiceSpec,
  options: UpOptions,
): Step {
  const http = service.ports.find((port) => port.protocol === "http");
  return {
    title: service.name,
    run: async (context: StepContext) => {
      const onDetail = (detail: string) => context.update(detail);
      // A service with an HTTP port is ready when it answers over HTTP from the host:
      // what the user needs, and sooner than Docker's next health check.
      await waitForService(deps.engine, deps.clock, topology.identity.id, service.name, {
        timeoutMs: options.healthTimeoutMs,
        secrets: topology.secrets,
        requireHealthy: http === undefined,
        runsOnce: service.runsOnce === true,
        onDetail,
      });
      if (http) {
        await waitForWeb(deps, topology, service, http, options, onDetail);
        context.setTitle(`${service.name} answers on http://127.0.0.1:${http.hostPort}`);
      } else if (service.runsOnce) {
        context.setTitle(`${service.name} ran (exit 0)`);
      } else {
        context.setTitle(`${service.name} ${service.health ? "healthy" : "running"}`);
      }
    },
  };
}

// The page on a service's HTTP port, checked as a user reaches it; on a failure, the
// last log lines of the services behind it say why (nginx's "Permission denied", PHP's
// fatal error).
async function waitForWeb(
  deps: DeployDeps,
  topology: Topology,
  service: ServiceSpec,
  port: PortSpec,
  options: UpOptions,
  onDetail: (detail: string) => void,
): Promise<void> {
  // An empty checkout has no page to answer yet; the mail catcher's page is prodlike's.
  if (options.webCheck?.noApplication && service.role !== "mail") return;
  await waitForWebUrl(webUrlOf(port), deps.clock, {
    timeoutMs: options.healthTimeoutMs,
    intervalMs: 50,
    requestTimeoutMs: options.webCheck?.requestTimeoutMs,
    failAfterMs: options.webCheck?.failAfterMs,
    onDetail,
    logsArgs: servicesExplaining(topology, service),
    secrets: topology.secrets,
    recentLogs: () => recentLogs(deps.engine, topology, servicesBehind(topology, service)),
  });
}

/** A service and every service it depends on, transitively (varnish, web, php-fpm…). */
function servicesBehind(topology: Topology, service: ServiceSpec): string[] {
  const names = new Set<string>();
  const visit = (name: string) => {
    if (names.has(name)) return;
    names.add(name);
    const spec = topology.services.find((candidate) => candidate.name === name);
    for (const dependency of spec?.dependsOn ?? []) visit(dependency.service);
  };
  visit(service.name);
  return [...names];
}

async function recentLogs(
  engine: DockerEngine,
  topology: Topology,
  services: readonly string[],
): Promise<string> {
  const containers = await engine.listContainers({ [Label.env]: topology.identity.id });
  const parts = await Promise.all(
    services.map(async (name) => {
      const container = containers.find((candidate) => candidate.labels[Label.service] === name);
      if (!container) return "";
      const text = await engine.containerLogs(container.id, 20).catch(() => "");
      return text
        .trimEnd()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => `${name} | ${line}`)
        .join("\n");
    }),
  );
  return parts.filter((part) => part !== "").join("\n");
}

/** Where `up` checks a service with an HTTP port: its health path on the published port. */
function webUrlOf(port: { hostPort: number; healthPath?: string | undefined }): string {
  return `http://127.0.0.1:${port.hostPort}${port.healthPath ?? "/"}`;
}

function webPorts(topology: Topology): { service: ServiceSpec; port: PortSpec }[] {
  return topology.services.flatMap((service) =>
    service.ports.filter((port) => port.protocol === "http").map((port) => ({ service, port })),
  );
}
