import type { BackendName } from "../../backends/backend.js";
import { filesPull } from "../../core/files.js";
import type { Output } from "../output.js";
import { lockTimeoutMs, services } from "./common.js";

export default async function filesPullCommand(
  output: Output,
  flags: { dir: string; name?: string; backend?: BackendName; lockTimeout?: string },
  source: string | undefined,
): Promise<number> {
  const report = await filesPull(
    await services(),
    { ...flags, from: source, lockTimeoutMs: lockTimeoutMs(flags) },
    await output.progress(),
  );
  output.result("files pull", { ...report }, () =>
    [
      `Pulled ${report.local} from ${report.source}: ${report.transferred} of ${report.files} files copied, ${(report.bytes / 1e6).toFixed(1)} MB in ${(report.durationMs / 1000).toFixed(1)} s (${report.megabytesPerSecond.toFixed(1)} MB/s).`,
      ...(report.unsafeLinks.length > 0
        ? [
            `Left out ${report.unsafeLinks.length} symlink(s) pointing outside the files folder: ${report.unsafeLinks.join(", ")}`,
          ]
        : []),
    ].join("\n"),
  );
  return 0;
}
