import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { formatCommand } from "../../process/command-runner.js";
import { environmentLabels, Label } from "../../topology/labels.js";
import type { Topology } from "../../topology/model.js";
import { SEED_MOUNT, type Seed, type SeedExport, type SeedLayering } from "../backend.js";
import type { DockerEngine } from "../docker/docker-engine.js";

// Copy-on-write seeds on the engine (`up --seed-from ENV:SNAPSHOT`):
//
// - a seed is a volume of its own, `prodlike-seed-NAME`, holding a snapshot's prepared
//   data as a database volume lays it out. It is filled once, checked, and never written
//   again: no container mounts it, it is only ever an overlay's read-only lower layer.
//   It carries no environment's label, so its source's destroy leaves it to its users.
// - an environment's volume layered on it is a `local` volume of type overlay (the
//   kernel's overlayfs, mounted by the engine when a container starts): the seed below,
//   two plain volumes of the environment's own above (the upper layer, which takes every
//   file it writes, and overlayfs' work folder). All three carry the environment's labels,
//   so its destroy removes them with the rest; the overlay says which seed it is on.
//
// Overlayfs copies a file up whole the first time it is opened for writing: an
// environment's disk is the files it wrote (InnoDB's logs and the tables it touched),
// never the seed's untouched ones.

export const SeedLabel = {
  /** On a seed volume: its name. */
  seed: "dev.prodlike.seed",
  source: "dev.prodlike.seed.source",
  snapshot: "dev.prodlike.seed.snapshot",
  /** On a seed volume: the image it was filled with (its checks run in it too). */
  image: "dev.prodlike.seed.image",
  /** On an environment's overlay volume: the seed it is layered on. */
  layeredOn: "dev.prodlike.seed.layered-on",
  /** On an overlay's upper and work volumes: the overlay they belong to. */
  layerOf: "dev.prodlike.seed.layer-of",
} as const;

export function seedVolumeName(seed: string): string {
  return `prodlike-seed-${seed}`;
}

/** The engine's name of an environment's volume, as compose names it. */
export function projectVolumeName(envId: string, volume: string): string {
  return `${envId}_${volume}`;
}

export class SeedVolumes {
  constructor(
    private readonly runner: CommandRunner,
    private readonly engine: DockerEngine,
  ) {}

  /** Every seed on the engine, with the environments layered on it. */
  async list(): Promise<Seed[]> {
    const [seeds, layered] = await Promise.all([
      this.engine.labelledVolumes({ [SeedLabel.seed]: true }),
      this.engine.labelledVolumes({ [SeedLabel.layeredOn]: true }),
    ]);
    return seeds.map((volume) => {
      const name = volume.labels[SeedLabel.seed] ?? "";
      return {
        name,
        source: volume.labels[SeedLabel.source] ?? "",
        snapshot: volume.labels[SeedLabel.snapshot] ?? "",
        users: layered
          .filter((user) => user.labels[SeedLabel.layeredOn] === name)
          .map((user) => user.labels[Label.env] ?? user.name)
          .sort(),
      };
    });
  }

  /** The volumes of `envId` compose must use as they are: those layered on a seed. */
  async layeredVolumes(envId: string): Promise<Record<string, string>> {
    const layered = await this.engine.labelledVolumes({
      [SeedLabel.layeredOn]: true,
      [Label.env]: envId,
    });
    const prefix = projectVolumeName(envId, "");
    return Object.fromEntries(
      layered
        .filter((volume) => volume.name.startsWith(prefix))
        .map((volume) => [volume.name.slice(prefix.length), volume.name]),
    );
  }

  /**
   * Fills a new seed volume from a service's volume: the script runs in a throwaway
   * container of the service's image with the service's volumes mounted read-only where
   * the service has them, and the seed at SEED_MOUNT. A seed that did not complete is
   * removed.
   */
  async create(request: SeedExport): Promise<void> {
    const source = (
      await this.engine.listContainers({
        [Label.env]: request.source,
        [Label.service]: request.service,
      })
    )[0];
    if (!source) {
      throw new ProdlikeError(
        "ENV_NOT_FOUND",
        `${request.source} has no ${request.service} container to seed from`,
        { hint: "Start it (`prodlike up`) and try again." },
      );
    }
    const volume = seedVolumeName(request.seed);
    await this.docker([
      "volume",
      "create",
      ...labelArgs({
        [Label.managed]: "true",
        [SeedLabel.seed]: request.seed,
        [SeedLabel.source]: request.source,
        [SeedLabel.snapshot]: request.snapshot,
        [SeedLabel.image]: source.image,
      }),
      volume,
    ]);
    const result = await this.runner.run("docker", [
      "run",
      "--rm",
      "--network",
      "none",
      "--volumes-from",
      `${source.id}:ro`,
      "--mount",
      `type=volume,source=${volume},target=${SEED_MOUNT}`,
      "--entrypoint",
      request.command[0] ?? "sh",
      source.image,
      ...request.command.slice(1),
    ]);
    if (result.exitCode !== 0) {
      await this.removeVolumes([volume]);
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `Making seed ${request.seed} from ${request.source}'s ${request.service} failed (exit ${result.exitCode})`,
        {
          hint: `${result.stderr.trim().split("\n").slice(-6).join("\n")}\n${request.source}'s data was not touched.`,
        },
      );
    }
  }

  /**
   * Makes the environment's `volume` an overlay on the seed, then mounts it once to see
   * that the engine can (overlayfs in the kernel, the `local` driver's options) and that
   * the seed is whole (`check` holds in it). When it cannot, nothing is left and the
   * reason is answered: the caller copies instead.
   */
  async layer(
    topology: Topology,
    request: { volume: string; seed: string; check: string },
  ): Promise<SeedLayering> {
    const envId = topology.identity.id;
    const image = (await this.engine.volumeLabels(seedVolumeName(request.seed)))?.[SeedLabel.image];
    if (!image) return { layered: false, reason: `there is no seed ${request.seed}` };
    const overlay = projectVolumeName(envId, request.volume);
    const upper = `${overlay}-upper`;
    const work = `${overlay}-work`;
    const labels = environmentLabels(topology.identity, {
      preset: topology.preset,
      backend: "compose",
      codeRoot: topology.codeRoot,
    });
    const made: string[] = [];
    try {
      for (const part of [upper, work]) {
        await this.docker([
          "volume",
          "create",
          ...labelArgs({ ...labels, [SeedLabel.layerOf]: overlay }),
          part,
        ]);
        made.push(part);
      }
      const [lowerDir, upperDir, workDir] = await this.mountpoints([
        seedVolumeName(request.seed),
        upper,
        work,
      ]);
      await this.docker([
        "volume",
        "create",
        "--driver",
        "local",
        "--opt",
        "type=overlay",
        "--opt",
        "device=overlay",
        "--opt",
        `o=lowerdir=${lowerDir},upperdir=${upperDir},workdir=${workDir}`,
        ...labelArgs({ ...labels, [SeedLabel.layeredOn]: request.seed }),
        overlay,
      ]);
      made.push(overlay);
      const probe = await this.runner.run("docker", [
        "run",
        "--rm",
        "--network",
        "none",
        "--mount",
        `type=volume,source=${overlay},target=/prodlike-layered`,
        "--entrypoint",
        "sh",
        image,
        "-c",
        request.check,
        "check-seed",
        "/prodlike-layered",
      ]);
      if (probe.exitCode !== 0) {
        await this.removeVolumes(made.reverse());
        return {
          layered: false,
          reason: probe.stderr.includes("mount")
            ? `the engine cannot mount an overlay volume here (${lastLine(probe.stderr)})`
            : `seed ${request.seed} is not whole (${lastLine(probe.stderr) || `exit ${probe.exitCode}`})`,
        };
      }
      return { layered: true };
    } catch (error) {
      await this.removeVolumes(made.reverse());
      throw error;
    }
  }

  /** Removes the seeds no environment is layered on any more; their names. */
  async removeUnused(): Promise<string[]> {
    const unused = (await this.list()).filter((seed) => seed.users.length === 0);
    await this.removeVolumes(unused.map((seed) => seedVolumeName(seed.name)));
    return unused.map((seed) => seed.name);
  }

  /** The bytes each environment wrote over its seed (the upper layers), measured in a
   *  throwaway container of `image`. */
  async writtenBytes(image: string, envIds: readonly string[]): Promise<Map<string, number>> {
    const uppers = (await this.engine.labelledVolumes({ [SeedLabel.layerOf]: true })).filter(
      (volume) => volume.name.endsWith("-upper") && envIds.includes(volume.labels[Label.env] ?? ""),
    );
    const result = await this.docker([
      "run",
      "--rm",
      "--network",
      "none",
      ...uppers.flatMap((volume, index) => [
        "--mount",
        `type=volume,source=${volume.name},target=/upper/${index},readonly`,
      ]),
      "--entrypoint",
      "sh",
      image,
      "-c",
      'for dir in /upper/*; do [ -d "$dir" ] && du -sb "$dir"; done; true',
    ]);
    const bytes = new Map<string, number>();
    for (const line of result.stdout.split("\n")) {
      const match = /^(\d+)\s+\/upper\/(\d+)$/.exec(line.trim());
      const volume = match ? uppers[Number(match[2])] : undefined;
      const envId = volume?.labels[Label.env];
      if (match && envId) bytes.set(envId, (bytes.get(envId) ?? 0) + Number(match[1]));
    }
    return bytes;
  }

  private async mountpoints(volumes: string[]): Promise<string[]> {
    const result = await this.docker([
      "volume",
      "inspect",
      "--format",
      "{{.Mountpoint}}",
      ...volumes,
    ]);
    const paths = result.stdout.split("\n").filter((line) => line.trim() !== "");
    if (paths.length !== volumes.length || paths.some((dir) => !dir.startsWith("/"))) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `The engine gave no folder for ${volumes.join(", ")}`,
      );
    }
    // Overlayfs' options are split at commas and colons: a folder holding one cannot be
    // named in them (the engine's own volume folders never do).
    for (const dir of paths) {
      if (/[,:\\]/.test(dir)) {
        throw new ProdlikeError(
          "COMMAND_FAILED",
          `The volume folder ${dir} cannot be an overlay layer`,
        );
      }
    }
    return paths;
  }

  private async removeVolumes(names: readonly string[]): Promise<void> {
    for (const name of names) await this.engine.removeVolume(name).catch(() => undefined);
  }

  private async docker(args: string[]) {
    const result = await this.runner.run("docker", args);
    if (result.exitCode !== 0) {
      throw new ProdlikeError("COMMAND_FAILED", `${formatCommand("docker", args)} failed`, {
        hint: result.stderr.trim().split("\n").slice(-4).join("\n"),
      });
    }
    return result;
  }
}

function labelArgs(labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([key, value]) => ["--label", `${key}=${value}`]);
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
