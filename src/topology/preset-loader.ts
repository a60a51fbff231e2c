import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { readYamlFile, validateYaml } from "../config/yaml-source.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { packageFile } from "../package-files.js";
import { type PresetDefinition, presetSchema } from "./preset-schema.js";

// A preset read from disk: its definition plus the raw text of its templates and the
// content hashes of its image build contexts. Everything after this is pure.
export interface LoadedPreset {
  dir: string;
  definition: PresetDefinition;
  /** Config file name -> template text. */
  configTemplates: Record<string, string>;
  /** Code file source -> template text. */
  codeFileTemplates: Record<string, string>;
  /** Build context (relative to the preset) -> content hash. */
  contextHashes: Record<string, string>;
}

export const PRESETS_DIR = packageFile("presets/");

export async function listPresets(presetsDir = PRESETS_DIR): Promise<string[]> {
  const entries = await readdir(presetsDir, { withFileTypes: true });
  // `_shared` holds images several presets build (MariaDB, nginx, Redis): not a preset.
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("_"))
    .map((entry) => entry.name);
}

/**
 * A preset by name (a folder of PRESETS_DIR), or by the absolute path of a folder of a
 * project's own (prodlike.yaml `preset: ./presets/NAME`): preset.yaml, its templates and
 * its images. Inside a preset, `@shared/…` names prodlike's shared images and config
 * (presets/_shared), so a project's preset builds on the same nginx, PHP and MariaDB.
 */
export async function loadPreset(name: string, presetsDir = PRESETS_DIR): Promise<LoadedPreset> {
  const dir = path.isAbsolute(name) ? name : path.join(presetsDir, name);
  if (!path.isAbsolute(name)) {
    const available = await listPresets(presetsDir);
    if (!available.includes(name)) {
      throw new ProdlikeError("PRESET_UNKNOWN", `Unknown preset \`${name}\``, {
        hint: `Available presets: ${available.join(", ")}; or the folder of your own (preset: ./presets/NAME, holding preset.yaml).`,
      });
    }
  }
  const presetFile = path.join(dir, "preset.yaml");
  const parsed = await readYamlFile(presetFile).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new ProdlikeError("PRESET_UNKNOWN", `No preset in ${dir}: ${presetFile} is missing`, {
      hint: "A preset folder holds preset.yaml (see presets/ in prodlike for examples).",
    });
  });
  const builtIn = !path.isAbsolute(name);
  const definition = validateYaml(parsed, presetSchema, () =>
    builtIn ? "This is a bug in the preset." : `Fix ${presetFile}.`,
  );

  const configTemplates: Record<string, string> = {};
  for (const [fileName, source] of Object.entries(definition.configFiles)) {
    configTemplates[fileName] = await readFile(presetPath(dir, source), "utf8");
  }
  const codeFileTemplates: Record<string, string> = {};
  for (const codeFile of definition.codeFiles) {
    codeFileTemplates[codeFile.source] = await readFile(presetPath(dir, codeFile.source), "utf8");
  }
  const contextHashes: Record<string, string> = {};
  for (const service of Object.values(definition.services)) {
    if (service.build)
      contextHashes[service.build] = await hashDirectory(presetPath(dir, service.build));
  }
  return { dir, definition, configTemplates, codeFileTemplates, contextHashes };
}

/** What `@shared/…` stands for in a preset: prodlike's shared images and config. */
export const SHARED_DIR = path.join(PRESETS_DIR, "_shared");

/** A path a preset names (a build context, a template), resolved from its folder. */
export function presetPath(dir: string, relative: string): string {
  return relative.startsWith("@shared/")
    ? path.join(SHARED_DIR, relative.slice("@shared/".length))
    : path.resolve(dir, relative);
}

/** Whether a build context is one of the shared images (one image for every preset). */
export function isSharedContext(build: string): boolean {
  return build.startsWith("@shared/") || build.includes("_shared/");
}

// Hash of every file's relative path and bytes: a changed Dockerfile or script gives a
// new image tag, so `up` rebuilds exactly when the build context changed.
export async function hashDirectory(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
  for (const file of files) {
    hash
      .update(file)
      .update("\0")
      .update(await readFile(path.join(dir, file)))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 12);
}
