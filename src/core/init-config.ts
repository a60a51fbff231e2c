import { access, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { type ComposerPhp, phpFromComposer } from "../config/composer-php.js";
import { CONFIG_FILE_NAME } from "../config/load-config.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { projectNameFromFolder } from "../topology/identity.js";
import type { PresetDefinition } from "../topology/preset-schema.js";

export interface Detected {
  preset: string | undefined;
  docroot: string | undefined;
  /** Why the preset was chosen, for the user. */
  reason: string;
  /** Optional preset services the code uses (a Redis client in package.json). */
  services?: string[];
  /** The PHP composer.json asks for, as a version prodlike builds (or none it builds). */
  php?: ComposerPhp;
}

/** What detection and the written prodlike.yaml need of a preset. */
export interface PresetFacts {
  name: string;
  definition: PresetDefinition;
}

const GENERIC_DOCROOTS = ["web", "docroot", "html", "public"];

// Reads the code tree for what a prodlike.yaml would say. Each preset declares how its
// framework is recognized (preset.yaml `detect:`); of the presets whose rules match, the
// one with the highest priority wins (OpenMage before Drupal before a Node service, as
// their presets rank themselves).
export async function detectProject(
  codeRoot: string,
  presets?: readonly PresetFacts[],
): Promise<Detected> {
  const known = presets ?? (await loadAllPresets());
  const composer = await readJson(path.join(codeRoot, "composer.json"));
  const packageJson = await readJson(path.join(codeRoot, "package.json"));
  const requires = { ...(composer?.require ?? {}), ...(composer?.["require-dev"] ?? {}) };
  const candidates = [...known]
    .filter((preset) => preset.definition.detect)
    .sort((a, b) => (b.definition.detect?.priority ?? 0) - (a.definition.detect?.priority ?? 0));
  for (const preset of candidates) {
    const detect = preset.definition.detect;
    if (!detect) continue;
    let reason: string | undefined;
    for (const rule of detect.rules) {
      if ("composer" in rule && rule.composer in requires) {
        reason = `composer.json requires ${rule.composer}`;
      } else if ("file" in rule && (await exists(path.join(codeRoot, rule.file)))) {
        reason = `${rule.file} found`;
      } else if ("packageJson" in rule && packageJson && !composer) {
        reason = "package.json found";
      }
      if (reason) break;
    }
    if (!reason) continue;
    const services = usedServices(detect.services, packageJson);
    return {
      preset: preset.name,
      docroot:
        detect.docroot.length > 0
          ? ((await firstWithIndex(codeRoot, detect.docroot)) ?? preset.definition.defaults.docroot)
          : undefined,
      reason: services.length > 0 ? `${reason} (it uses ${services.join(" and ")})` : reason,
      ...(Object.keys(detect.services).length > 0 ? { services } : {}),
      ...(preset.definition.versions.php ? { php: phpFromComposer(composer) } : {}),
    };
  }
  return {
    preset: undefined,
    docroot: await firstWithIndex(codeRoot, GENERIC_DOCROOTS),
    reason: "no known framework found in composer.json or package.json",
  };
}

async function loadAllPresets(): Promise<PresetFacts[]> {
  const { listPresets, loadPreset } = await import("../topology/preset-loader.js");
  return Promise.all(
    (await listPresets()).map(async (name) => ({
      name,
      definition: (await loadPreset(name)).definition,
    })),
  );
}

// The optional services whose clients package.json depends on.
function usedServices(
  clients: Readonly<Record<string, readonly string[]>>,
  packageJson: Record<string, Record<string, unknown>> | undefined,
): string[] {
  const deps = Object.keys({
    ...(packageJson?.dependencies ?? {}),
    ...(packageJson?.devDependencies ?? {}),
  });
  return Object.entries(clients)
    .filter(([, names]) => names.some((client) => deps.includes(client)))
    .map(([service]) => service);
}

async function firstWithIndex(
  codeRoot: string,
  folders: readonly string[],
): Promise<string | undefined> {
  for (const folder of folders) {
    if (await exists(path.join(codeRoot, folder, "index.php"))) return folder;
  }
  return undefined;
}

export function renderConfig(options: {
  project: string;
  preset: string;
  /** The preset's definition: its web port, its optional services, who gets `env`. */
  definition?: PresetDefinition | undefined;
  docroot: string | undefined;
  /** Path or URL of prodlike.schema.json for editors. */
  schemaRef: string;
  /** Optional preset services to turn on. */
  services?: string[] | undefined;
  /** The PHP composer.json asks for. */
  php?: ComposerPhp;
}): string {
  const definition = options.definition;
  const optional = Object.entries(definition?.services ?? {})
    .filter(([, spec]) => spec.optional)
    .map(([name]) => name);
  const withEnv = Object.entries(definition?.services ?? {})
    .filter(([, spec]) => spec.appEnv)
    .map(([name]) => name);
  return [
    `# yaml-language-server: $schema=${options.schemaRef}`,
    "# prodlike.yaml: how `prodlike up` builds this project's local environment.",
    "# Every field is optional; see docs/configuration.md in prodlike.",
    `name: ${options.project}`,
    `preset: ${options.preset}`,
    ...(options.docroot === undefined
      ? []
      : [`docroot: ${options.docroot === "" ? '""' : options.docroot}`]),
    ...phpLines(options.php),
    "# Preferred host ports (bound to 127.0.0.1); a taken port moves to the next free one.",
    "ports:",
    `  web: ${definition?.defaults.ports.web ?? 8080}`,
    ...(optional.length > 0
      ? [
          "# Dependencies the app uses, off unless turned on:",
          ...(options.services?.length
            ? ["services:", ...options.services.map((service) => `  ${service}: { enabled: true }`)]
            : ["# services:", ...optional.map((service) => `#   ${service}: { enabled: true }`)]),
        ]
      : []),
    `# Extra environment variables for the code containers${withEnv.length > 0 ? ` (${withEnv.join(", ")})` : ""}:`,
    "# env:",
    "#   APP_ENV: local",
    "",
  ].join("\n");
}

// The project's own PHP, said where it came from; one prodlike cannot build is left to the
// preset's default, with the reason.
function phpLines(php: ComposerPhp): string[] {
  if (!php) return [];
  if (php.php) return [`php: "${php.php}" # composer.json ${php.from}`];
  return [
    `# composer.json ${php.from}: no PHP prodlike builds offline (8.2, 8.4) satisfies it;`,
    "# the preset's default is used. Set php: here once composer.json allows one.",
  ];
}

export async function writeConfig(
  codeRoot: string,
  content: string,
  force: boolean,
): Promise<string> {
  const file = path.join(codeRoot, CONFIG_FILE_NAME);
  if (!force && (await exists(file))) {
    throw new ProdlikeError("CONFIG_EXISTS", `${file} already exists`, {
      hint: "Edit it, or pass --force to replace it.",
    });
  }
  await writeFile(file, content);
  return file;
}

/** Where the schema is published: what prodlike.yaml names when prodlike is not
 *  installed inside the project. */
export const PUBLISHED_SCHEMA = "https://prodlike.dev/schema/prodlike.schema.json";

// The schema file shipped with this prodlike, when it is installed in the project
// (node_modules/prodlike/schema/prodlike.schema.json): editors find it offline, and the
// path holds on every teammate's checkout. A prodlike installed elsewhere (globally, a
// checkout of its own) would write a path that holds on this machine only, into a file
// that is committed: the published URL then.
export function schemaReference(codeRoot: string, schemaFile: string): string {
  const relative = path.relative(codeRoot, schemaFile);
  return relative.startsWith("..") || path.isAbsolute(relative) ? PUBLISHED_SCHEMA : relative;
}

export function defaultProjectName(codeRoot: string): string {
  return projectNameFromFolder(codeRoot);
}

async function readJson(
  file: string,
): Promise<Record<string, Record<string, unknown>> | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Record<string, Record<string, unknown>>;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export { DEFAULT_PRESET } from "../config/schema.js";

/** A preset's definition, for the prodlike.yaml `init` writes. */
export async function presetDefinition(name: string): Promise<PresetDefinition> {
  const { loadPreset } = await import("../topology/preset-loader.js");
  return (await loadPreset(name)).definition;
}

/** The presets `init` can write a config for. */
export async function presetNames(): Promise<string[]> {
  const { listPresets } = await import("../topology/preset-loader.js");
  return listPresets();
}
