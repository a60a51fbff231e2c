import { baseImage } from "../../core/images.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

export default async function imagesBaseCommand(
  output: Output,
  flags: { offline: boolean; mirror?: string; force: boolean; tag?: string; suite: string },
): Promise<number> {
  const result = await baseImage(
    await services(),
    {
      offline: flags.offline,
      force: flags.force,
      mirror: flags.mirror,
      target: flags.tag,
      suite: flags.suite,
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
