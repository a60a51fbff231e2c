import { mkdir } from "node:fs/promises";
import { openUserSettings } from "../config/user-settings.js";
import { DEBIAN_SUITES, type DebianSuite } from "../config/vocabulary.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { BaseImageRequest, BaseImageResult } from "../images/base-image.js";
import type { Progress } from "../ui/steps.js";
import type { CoreServices } from "./services.js";

// `prodlike images base`: the presets' base image, present or built offline, its work
// folder in the user's state folder.
export async function baseImage(
  services: CoreServices,
  options: Omit<BaseImageRequest, "workDir" | "suite"> & { suite?: string | undefined },
  progress: Progress,
): Promise<BaseImageResult> {
  const suite = options.suite ?? "trixie";
  if (!DEBIAN_SUITES.includes(suite as DebianSuite)) {
    throw new ProdlikeError("USAGE", `--suite must be one of ${DEBIAN_SUITES.join(", ")}`, {
      hint: "trixie gives PHP 8.4, MariaDB 11.8 and PostgreSQL 17; bookworm PHP 8.2, MariaDB 10.11 and PostgreSQL 15.",
    });
  }
  const engine = await services.engine();
  await engine.ping();
  const settings = await openUserSettings(services.env);
  await mkdir(settings.stateDir, { recursive: true });
  const { ensureBaseImage } = await import("../images/base-image.js");
  return ensureBaseImage(
    engine,
    services.runner,
    { ...options, suite: suite as DebianSuite, workDir: settings.stateDir },
    progress,
  );
}
