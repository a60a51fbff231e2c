import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isProdlikeError, ProdlikeError } from "../../errors/prodlike-error.js";
import { Label } from "../../topology/labels.js";
import type { BuiltImage } from "../../topology/model.js";
import type { Step } from "../../ui/steps.js";
import type { DockerEngine } from "./docker-engine.js";
import { fetchNpmPackage } from "./npm-package.js";

// Builds the preset images an environment needs. Tags are content-addressed, so an
// existing tag is the right image and is not built again; environments of the same
// preset share them (ten QA environments do not build forty images).
export function imageSteps(
  engine: DockerEngine,
  images: readonly BuiltImage[],
  options: { rebuild: boolean; preset: string },
): Step[] {
  return images.map((image) => ({
    title: image.tag,
    run: async (context) => {
      if (!options.rebuild && (await engine.imageExists(image.tag))) {
        context.setTitle(`${image.tag} (cached)`);
        return;
      }
      context.setTitle(`Building ${image.tag}`);
      // Only Dockerfile steps: whole apt logs would drown the progress display.
      await buildWithBaseCheck(engine, image, options.preset, (line) => {
        if (/^Step \d+\/\d+/.test(line)) context.update(line);
      });
      context.setTitle(`Built ${image.tag}`);
    },
  }));
}

async function buildWithBaseCheck(
  engine: DockerEngine,
  image: BuiltImage,
  preset: string,
  onLine: (line: string) => void,
): Promise<void> {
  const base = await baseImageOf(image.context, image.buildArgs);
  const context = image.npmPackages?.length ? await contextWithPackages(image) : undefined;
  try {
    await engine.buildImage({
      context: context ?? image.context,
      tag: image.tag,
      buildArgs: image.buildArgs,
      labels: {
        [Label.managed]: "true",
        [Label.image]: image.tag.split(":")[0] ?? image.tag,
        [Label.preset]: preset,
      },
      onLine,
    });
  } catch (error) {
    // The usual cause on an air-gapped or rate-limited host: the FROM image is not here
    // and cannot be pulled.
    if (base && !(await engine.imageExists(base))) {
      throw new ProdlikeError(
        "BASE_IMAGE_MISSING",
        `Base image ${base} is not present and could not be pulled`,
        {
          cause: error,
          hint: `Build it locally without a registry: \`prodlike images base --offline${suiteOption(base)}\` (debootstrap + docker import), then run prodlike up again.`,
          data: { image: base },
        },
      );
    }
    if (isProdlikeError(error)) throw error;
    throw new ProdlikeError("IMAGE_BUILD_FAILED", `Building ${image.tag} failed`, { cause: error });
  } finally {
    if (context) await rm(context, { recursive: true, force: true });
  }
}

// A copy of the build folder with the npm packages the build needs beside its files
// (the preset's folder itself may be read-only, installed with prodlike).
async function contextWithPackages(image: BuiltImage): Promise<string> {
  const copy = await mkdtemp(path.join(os.tmpdir(), "prodlike-build-"));
  try {
    await cp(image.context, copy, { recursive: true });
    for (const entry of image.npmPackages ?? []) {
      await fetchNpmPackage({ ...entry, file: path.join(copy, entry.file) });
    }
    return copy;
  } catch (error) {
    await rm(copy, { recursive: true, force: true });
    throw error;
  }
}

// The FROM image, with the build arguments it names filled in (the given ones, else the
// ARG's default): `debian:${DEBIAN_SUITE}-slim` is debian:trixie-slim.
export async function baseImageOf(
  context: string,
  buildArgs: Readonly<Record<string, string>> = {},
): Promise<string | undefined> {
  let dockerfile: string;
  try {
    dockerfile = await readFile(path.join(context, "Dockerfile"), "utf8");
  } catch {
    return undefined;
  }
  const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/im.exec(dockerfile);
  if (!from?.[1]) return undefined;
  const defaults = new Map(
    [
      ...dockerfile.slice(0, from.index).matchAll(/^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/gim),
    ].map((match) => [match[1] ?? "", match[2] ?? ""]),
  );
  return from[1].replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_match, braced?: string, bare?: string) => {
      const name = braced ?? bare ?? "";
      return buildArgs[name] ?? defaults.get(name) ?? "";
    },
  );
}

function suiteOption(base: string): string {
  const suite = /^debian:([a-z]+)-slim$/.exec(base)?.[1];
  return suite ? ` --suite ${suite}` : "";
}
