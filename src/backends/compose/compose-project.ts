import path from "node:path";
import { environmentDir } from "../../env/generated-files.js";
import { currentProcess, isRunning } from "../../env/lock.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import {
  orphanMarks,
  type ProcessTable,
  procProcessTable,
  stopOrphans,
} from "../../process/orphans.js";
import { Label } from "../../topology/labels.js";
import { redact } from "../../ui/redact.js";
import type { ContainerInfo } from "../docker/docker-engine.js";
import {
  type ComposeCommand,
  type ComposeFlavour,
  composeArgs,
  detectCompose,
} from "./compose-cli.js";
import type { ComposeDetectionCache } from "./compose-detection-cache.js";

// The compose CLI for one project at a time: which compose this machine has (found once),
// and its commands run with their failure turned into a typed error.

export const COMPOSE_FILE = "docker-compose.yml";

export interface ComposeProject {
  /** The compose project name: the environment id. */
  name: string;
  file: string;
}

export interface ComposeCliDeps {
  runner: CommandRunner;
  /** PRODLIKE_COMPOSE: force `v1` or `v2`. */
  composeOverride?: string | undefined;
  /** Remembers which compose was found (see compose-detection-cache.ts). */
  detectionCache?: { key: () => Promise<string>; cache: ComposeDetectionCache } | undefined;
  /** Where orphaned compose processes are looked for (tests pass their own). */
  processes?: ProcessTable | undefined;
}

export class ComposeCli {
  private found: ComposeFlavour | undefined;
  private readonly processes: ProcessTable;

  constructor(private readonly deps: ComposeCliDeps) {
    this.processes =
      deps.processes ?? procProcessTable((pid, started) => isRunning({ pid, started }));
  }

  async flavour(): Promise<ComposeFlavour> {
    if (this.found) return this.found;
    const detection = this.deps.detectionCache;
    const key = detection ? await detection.key() : undefined;
    const cached = key && detection ? await detection.cache.get(key) : undefined;
    this.found = cached ?? (await detectCompose(this.deps.runner, this.deps.composeOverride));
    if (!cached && key && detection) await detection.cache.set(key, this.found);
    return this.found;
  }

  async describe(): Promise<string> {
    const flavour = await this.flavour();
    return [flavour.file, ...flavour.prefix, flavour.versionText].join(" ");
  }

  /** Runs a lifecycle command; its output is shown only when it fails (secrets redacted).
   *  A compose a killed prodlike left running on the project is stopped first. */
  async run(
    project: ComposeProject,
    command: ComposeCommand,
    secrets: readonly string[],
  ): Promise<void> {
    const flavour = await this.flavour();
    await stopOrphans(project.name, this.processes);
    const result = await this.deps.runner.run(
      flavour.file,
      composeArgs(flavour, project, command),
      {
        cwd: path.dirname(project.file),
        env: orphanMarks(project.name, currentProcess()),
      },
    );
    if (result.exitCode === 0) return;
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

  /** Runs a command with the terminal attached (logs); resolves its exit code. */
  async attached(project: ComposeProject, command: ComposeCommand): Promise<number> {
    const flavour = await this.flavour();
    const result = await this.deps.runner.run(
      flavour.file,
      composeArgs(flavour, project, command),
      {
        stdio: "inherit",
      },
    );
    return result.exitCode;
  }
}

/** The project of a running environment, from its containers' labels: those compose made
 *  for it (a container that merely carries the environment's label does not count). */
export function projectOfContainers(
  envId: string,
  containers: readonly ContainerInfo[],
): ComposeProject {
  const own = composeContainerOf(envId, containers);
  const codeRoot = own?.labels[Label.codeRoot] ?? "";
  const name = own?.labels[Label.name] ?? "";
  return { name: envId, file: path.join(environmentDir(codeRoot, name), COMPOSE_FILE) };
}

/** A container compose made for the environment, with prodlike's labels on it. */
export function composeContainerOf(
  envId: string,
  containers: readonly ContainerInfo[],
): ContainerInfo | undefined {
  return containers.find(
    (container) =>
      container.labels["com.docker.compose.project"] === envId &&
      container.labels[Label.codeRoot] &&
      container.labels[Label.name],
  );
}
