import { mkdir, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { FilesPullReport, FilesSource } from "../files/pull.js";
import { copyIntoVolume, volumeCopyPaths } from "../files/volume-copy.js";
import type { Progress } from "../ui/steps.js";
import { chooseBackend, type EnvRequest, whileLocked } from "./environments.js";
import { requireOwnership } from "./ownership.js";
import { resolveTarget } from "./plan.js";
import type { CoreServices } from "./services.js";

// `files pull [SOURCE]`: production's user files into the checkout (see files/pull.ts),
// holding the environment's lock like every change to its data.
export async function filesPull(
  services: CoreServices,
  request: EnvRequest & { from?: string | undefined },
  progress: Progress,
): Promise<FilesPullReport & { id: string }> {
  const [target, { loadPreset }, { planFilesPull, runFilesPull }, { readDrushAliases }] =
    await Promise.all([
      resolveTarget(services, request),
      import("../topology/preset-loader.js"),
      import("../files/pull.js"),
      import("../db/drush-aliases.js"),
    ]);
  const { config, codeRoot } = target.loaded;
  await requireOwnership(services, target, undefined, request);
  const preset = await loadPreset(config.preset);
  const docroot = config.docroot ?? preset.definition.defaults.docroot;
  const presetFiles = preset.definition.files;
  // The same sources as db pull: a name under pull.sources, or a drush alias (@prod).
  const sourceName = request.from ?? config.files?.from ?? config.pull?.from ?? "@prod";
  let source: FilesSource = {
    kind: "source",
    name: sourceName,
    config: config.pull?.sources?.[sourceName],
  };
  if (sourceName.startsWith("@")) {
    const aliases = await readDrushAliases(codeRoot);
    const alias = aliases.get(sourceName);
    if (!alias) {
      throw new ProdlikeError("USAGE", `No drush alias ${sourceName} in drush/sites/`, {
        hint:
          aliases.size > 0
            ? `Its aliases: ${[...aliases.keys()].join(", ")}. Or name a pull source.`
            : "Add drush/sites/self.site.yml, or name a source under pull.sources.",
      });
    }
    source = { kind: "alias", alias };
  }
  // A files folder in a volume (OpenMage's media/) is pulled into prodlike's own copy,
  // then carried into the volume through the service's container.
  const envId = target.identity.id;
  const volume = config.files?.local ? undefined : presetFiles?.volume;
  const copy = volumeCopyPaths(services.stores.dir, envId);
  const plan = planFilesPull({
    source,
    into: volume ? copy.dir : undefined,
    ssh: config.pull?.ssh,
    remote: config.files?.remote,
    local: volume
      ? `${volume.service}:${presetFiles?.path}`
      : (config.files?.local ?? presetFiles?.path.replace("{{docroot}}", docroot)),
    exclude: config.files?.exclude ?? presetFiles?.exclude ?? [],
    codeRoot,
    home: os.homedir(),
  });
  const report = await whileLocked(services, envId, "files pull", request, progress, async () => {
    if (volume) await mkdir(copy.dir, { recursive: true, mode: 0o700 });
    const pulled = await runFilesPull(plan, services.runner, progress);
    if (!volume || !presetFiles) return pulled;
    // The backend the environment runs on, from the target already read.
    const backend = await services.backend(
      await chooseBackend(services, request.backend, envId, config.backend),
    );
    let copied = 0;
    await progress.run([
      {
        title: `Copy into ${volume.service}:${presetFiles.path}`,
        run: async (context) => {
          copied = await copyIntoVolume(
            { backend, envId, service: volume.service, path: presetFiles.path },
            { ...copy, all: () => filesOf(copy.dir) },
            pulled.changes ?? { changed: [], deleted: [] },
            services.runner,
          );
          context.setTitle(`Copied ${copied} file(s) into ${volume.service}:${presetFiles.path}`);
        },
      },
    ]);
    return { ...pulled, volume: { service: volume.service, path: presetFiles.path, copied } };
  });
  const { changes: _changes, ...shown } = report;
  return { id: envId, ...shown };
}

/** Every file under a folder, relative to it. */
async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}
