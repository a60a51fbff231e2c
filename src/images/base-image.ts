import { mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { DockerEngine } from "../backends/docker/docker-engine.js";
import type { DebianSuite } from "../config/vocabulary.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { Progress } from "../ui/steps.js";

// The presets build FROM debian:trixie-slim or debian:bookworm-slim (the Debian release
// of the PHP or database version chosen). Where Docker Hub is reachable the tag is pulled;
// on air-gapped or rate-limited hosts `prodlike images base --offline --suite SUITE`
// makes it from the host's own Debian mirror: debootstrap a minbase root, then
// `docker import`.

export const DEFAULT_SUITE: DebianSuite = "trixie";

export interface BaseImageRequest {
  /** The Debian release: trixie (the default presets') or bookworm. */
  suite?: DebianSuite | undefined;
  /** repository:tag to import as; debian:SUITE-slim by default (tests use another). */
  target?: string | undefined;
  offline: boolean;
  force: boolean;
  /** Debian mirror for debootstrap; read from the host's apt sources when not given. */
  mirror?: string | undefined;
  workDir: string;
}

export interface BaseImageResult {
  image: string;
  action: "present" | "pulled" | "built-offline";
  mirror?: string;
  durationMs: number;
}

export async function ensureBaseImage(
  engine: DockerEngine,
  runner: CommandRunner,
  request: BaseImageRequest,
  progress: Progress,
): Promise<BaseImageResult> {
  const suite = request.suite ?? DEFAULT_SUITE;
  const image = request.target ?? `debian:${suite}-slim`;
  const [repository, tag] = splitReference(image);
  const started = Date.now();
  if (!request.force && (await engine.imageExists(image))) {
    return { image, action: "present", durationMs: Date.now() - started };
  }
  if (!request.offline) {
    try {
      await progress.run([{ title: `docker pull ${image}`, run: () => engine.pullImage(image) }]);
    } catch (error) {
      throw new ProdlikeError("BASE_IMAGE_MISSING", `Could not pull ${image}`, {
        cause: error,
        hint: `No registry access? Build it from your Debian mirror: prodlike images base --offline --suite ${suite}`,
      });
    }
    return { image, action: "pulled", durationMs: Date.now() - started };
  }
  const mirror = request.mirror ?? (await mirrorFromAptSources());
  if (!mirror) {
    throw new ProdlikeError("USAGE", "No Debian mirror found in /etc/apt/sources.list*", {
      hint: "Pass one: prodlike images base --offline --mirror http://deb.debian.org/debian",
    });
  }
  const probe = await runner.run("debootstrap", ["--version"]);
  if (probe.notFound) {
    throw new ProdlikeError("TOOL_MISSING", "debootstrap is not installed", {
      hint: "Install it: apt-get install debootstrap (it needs root to run).",
    });
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new ProdlikeError("TOOL_MISSING", "debootstrap needs root", {
      hint: `Run: sudo prodlike images base --offline --suite ${suite}`,
    });
  }

  const rootfs = await mkdtemp(path.join(request.workDir, "rootfs-"));
  try {
    await progress.run([
      {
        title: `debootstrap --variant=minbase ${suite} from ${mirror}`,
        run: async () => {
          const result = await runner.run("debootstrap", [
            "--variant=minbase",
            suite,
            rootfs,
            mirror,
          ]);
          if (result.exitCode !== 0) {
            throw new ProdlikeError(
              "COMMAND_FAILED",
              `debootstrap failed (exit ${result.exitCode})`,
              {
                hint: `${result.stderr || result.stdout}`.split("\n").slice(-10).join("\n"),
              },
            );
          }
          // Like the published slim image: no package lists or caches in the image.
          for (const leftover of ["var/lib/apt/lists", "var/cache/apt/archives", "debootstrap"]) {
            await rm(path.join(rootfs, leftover), { recursive: true, force: true });
          }
        },
      },
      {
        title: `docker import as ${image}`,
        run: async () => {
          // Through a file, not a pipe: tar's exit status is known before the engine sees a
          // byte, so a failed or short tar can never become a truncated image.
          const tarball = `${rootfs}.tar`;
          try {
            const archived = await runner.run("tar", [
              "-C",
              rootfs,
              "--numeric-owner",
              "-cf",
              tarball,
              ".",
            ]);
            if (archived.exitCode !== 0) {
              throw new ProdlikeError("COMMAND_FAILED", `tar failed (exit ${archived.exitCode})`, {
                hint: archived.stderr.split("\n").slice(-10).join("\n"),
              });
            }
            await engine.importImage(tarball, repository, tag);
          } finally {
            await rm(tarball, { force: true });
          }
        },
      },
    ]);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
  return { image, action: "built-offline", mirror, durationMs: Date.now() - started };
}

// The first Debian URI the host's apt uses (deb822 `URIs:` or one-line `deb URI suite`).
export async function mirrorFromAptSources(): Promise<string | undefined> {
  const files = ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => "");
    const found = parseAptMirror(text);
    if (found) return found;
  }
  return undefined;
}

export function parseAptMirror(text: string): string | undefined {
  const lines = text.split("\n").map((line) => line.trim());
  for (const line of lines) {
    const deb822 = /^URIs:\s*(\S+)/i.exec(line);
    if (deb822?.[1] && !deb822[1].includes("security")) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (oneLine?.[1] && !oneLine[1].includes("security") && /debian/.test(oneLine[1]))
      return oneLine[1];
  }
  return undefined;
}

function splitReference(reference: string): [string, string] {
  const colon = reference.lastIndexOf(":");
  if (colon <= 0 || reference.slice(colon).includes("/")) return [reference, "latest"];
  return [reference.slice(0, colon), reference.slice(colon + 1)];
}
