import os from "node:os";
import type { FilesPullReport } from "../files/pull.js";
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
  const [target, { loadPreset }, { planFilesPull, runFilesPull }] = await Promise.all([
    resolveTarget(services, request),
    import("../topology/preset-loader.js"),
    import("../files/pull.js"),
  ]);
  const { config, codeRoot } = target.loaded;
  const preset = await loadPreset(config.preset);
  const docroot = config.docroot ?? preset.definition.defaults.docroot;
  const presetFiles = preset.definition.files;
  const defaultSource = config.pull?.from?.startsWith("@") ? undefined : config.pull?.from;
  const sourceName = request.from ?? config.files?.from ?? defaultSource ?? "prod";
  const plan = planFilesPull({
    sourceName,
    source: config.pull?.sources?.[sourceName],
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
