import { mkdir } from "node:fs/promises";
import { openUserSettings } from "../config/user-settings.js";
import type { BaseImageRequest, BaseImageResult } from "../images/base-image.js";
import type { Progress } from "../ui/steps.js";
import type { CoreServices } from "./services.js";

// `prodlike images base`: the presets' base image, present or built offline, its work
// folder in the user's state folder.
export async function baseImage(
  services: CoreServices,
  options: Omit<BaseImageRequest, "workDir">,
  progress: Progress,
): Promise<BaseImageResult> {
  const engine = await services.engine();
  await engine.ping();
  const settings = await openUserSettings(services.env);
  await mkdir(settings.stateDir, { recursive: true });
  const { ensureBaseImage } = await import("../images/base-image.js");
  return ensureBaseImage(
    engine,
    services.runner,
    { ...options, workDir: settings.stateDir },
    progress,
  );
}
