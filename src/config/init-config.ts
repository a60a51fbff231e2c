import { access, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { projectNameFromFolder } from "../topology/identity.js";
import { CONFIG_FILE_NAME } from "./load-config.js";

export interface Detected {
  preset: string | undefined;
  docroot: string | undefined;
  /** Why the preset was chosen, for the user. */
  reason: string;
}

// Reads the code tree for what a prodlike.yaml would say: composer.json requiring
// drupal/core means the Drupal preset; the docroot is the folder holding index.php.
export async function detectProject(codeRoot: string): Promise<Detected> {
  const composer = await readJson(path.join(codeRoot, "composer.json"));
  const requires = { ...(composer?.require ?? {}), ...(composer?.["require-dev"] ?? {}) } as Record<
    string,
    unknown
  >;
  const drupal = Object.keys(requires).find((name) => /^drupal\/core(-recommended)?$/.test(name));
  let docroot: string | undefined;
  for (const candidate of ["web", "docroot", "html", "public"]) {
    if (await exists(path.join(codeRoot, candidate, "index.php"))) {
      docroot = candidate;
      break;
    }
  }
  if (drupal)
    return {
      preset: "drupal",
      docroot: docroot ?? "web",
      reason: `composer.json requires ${drupal}`,
    };
  return { preset: undefined, docroot, reason: "no known framework found in composer.json" };
}

export function renderConfig(options: {
  project: string;
  preset: string;
  docroot: string | undefined;
  /** Path or URL of prodlike.schema.json for editors. */
  schemaRef: string;
}): string {
  return [
    `# yaml-language-server: $schema=${options.schemaRef}`,
    "# prodlike.yaml: how `prodlike up` builds this project's local environment.",
    "# Every field is optional; see README.md (Configuration).",
    `name: ${options.project}`,
    `preset: ${options.preset}`,
    ...(options.docroot === undefined
      ? []
      : [`docroot: ${options.docroot === "" ? '""' : options.docroot}`]),
    "# Preferred host ports (bound to 127.0.0.1); a taken port moves to the next free one.",
    "ports:",
    "  web: 8080",
    "# Extra environment variables for the code containers (php-fpm, cli):",
    "# env:",
    "#   APP_ENV: local",
    "",
  ].join("\n");
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

// The schema file shipped with this prodlike, relative to the project (for example
// node_modules/prodlike/schema/prodlike.schema.json), so editors find it offline.
export function schemaReference(codeRoot: string, schemaFile: string): string {
  return path.relative(codeRoot, schemaFile);
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
