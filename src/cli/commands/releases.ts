import type { BackendName } from "../../backends/backend.js";
import { releases } from "../../core/operations.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// `prodlike releases`: what `rollback` can go back to, the previous release first.
export default async function releasesCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName },
): Promise<number> {
  const result = await releases(await services(), flags);
  output.result("releases", result, () =>
    result.releases.length === 0
      ? `${result.id} keeps no release yet: one is kept when \`up\` changes it.`
      : [
          `Releases of ${result.id} to go back to (newest first):`,
          ...result.releases.map(
            (release, index) =>
              `  ${release.id}${index === 0 ? "  previous (prodlike rollback)" : `  prodlike rollback --to ${release.id}`}${release.dataSnapshot ? `  data: ${release.dataSnapshot}` : ""}`,
          ),
        ].join("\n"),
  );
  return 0;
}
