import { openUserSettings } from "../../config/user-settings.js";
import { ensureBaseImage } from "../../images/base-image.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function imagesBaseCommand(
  output: Output,
  flags: { offline: boolean; mirror?: string; force: boolean; tag?: string },
): Promise<number> {
  const core = await services();
  const engine = await core.engine();
  await engine.ping();
  const settings = await openUserSettings(process.env);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(settings.stateDir, { recursive: true });
  const result = await ensureBaseImage(
    engine,
    core.runner,
    {
      offline: flags.offline,
      force: flags.force,
      mirror: flags.mirror,
      workDir: settings.stateDir,
      target: flags.tag,
    },
    await output.progress(),
  );
  output.result("images base", { ...result }, () =>
    result.action === "present"
      ? `${result.image} is already present (use --force to rebuild it).`
      : `${result.image} ${result.action === "pulled" ? "pulled" : `built from ${result.mirror}`} in ${(result.durationMs / 1000).toFixed(1)}s.`,
  );
  return 0;
}
