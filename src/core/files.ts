import os from "node:os";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { FilesPullReport, FilesSource } from "../files/pull.js";
import type { Progress } from "../ui/steps.js";
import { type EnvRequest, whileLocked } from "./environments.js";
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
  const plan = planFilesPull({
    source,
    ssh: config.pull?.ssh,
    remote: config.files?.remote,
    local: config.files?.local ?? presetFiles?.path.replace("{{docroot}}", docroot),
    exclude: config.files?.exclude ?? presetFiles?.exclude ?? [],
    codeRoot,
    home: os.homedir(),
  });
  const report = await whileLocked(
    services,
    target.identity.id,
    "files pull",
    request,
    progress,
    () => runFilesPull(plan, services.runner, progress),
  );
  return { id: target.identity.id, ...report };
}
