import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readYamlFile, validateYaml } from "../config/yaml-source.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
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

export const PRESETS_DIR = fileURLToPath(new URL("../../presets/", import.meta.url));

export async function listPresets(presetsDir = PRESETS_DIR): Promise<string[]> {
  const entries = await readdir(presetsDir, { withFileTypes: true });
  // `_shared` holds images several presets build (MariaDB, nginx, Redis): not a preset.
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("_"))
    .map((entry) => entry.name);
}

export async function loadPreset(name: string, presetsDir = PRESETS_DIR): Promise<LoadedPreset> {
  const available = await listPresets(presetsDir);
  if (!available.includes(name)) {
    throw new ProdlikeError("PRESET_UNKNOWN", `Unknown preset \`${name}\``, {
      hint: `Available presets: ${available.join(", ")}.`,
    });
  }
  const dir = path.join(presetsDir, name);
  const parsed = await readYamlFile(path.join(dir, "preset.yaml"));
  const definition = validateYaml(parsed, presetSchema, () => "This is a bug in the preset.");

  const configTemplates: Record<string, string> = {};
  for (const [fileName, source] of Object.entries(definition.configFiles)) {
    configTemplates[fileName] = await readFile(path.join(dir, source), "utf8");
  }
  const codeFileTemplates: Record<string, string> = {};
  for (const codeFile of definition.codeFiles) {
    codeFileTemplates[codeFile.source] = await readFile(path.join(dir, codeFile.source), "utf8");
  }
  const contextHashes: Record<string, string> = {};
  for (const service of Object.values(definition.services)) {
    if (service.build)
      contextHashes[service.build] = await hashDirectory(path.join(dir, service.build));
  }
  return { dir, definition, configTemplates, codeFileTemplates, contextHashes };
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
