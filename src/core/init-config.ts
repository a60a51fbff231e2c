import { access, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { type ComposerPhp, phpFromComposer } from "../config/composer-php.js";
import { CONFIG_FILE_NAME } from "../config/load-config.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { projectNameFromFolder } from "../topology/identity.js";

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

// package.json dependencies that mean the service needs one of the node preset's options.
const NODE_CLIENTS: Record<string, string[]> = {
  redis: ["redis", "ioredis", "@redis/client"],
  postgres: ["pg", "postgres", "pg-promise", "@prisma/client", "knex"],
};

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
  const openmage = "openmage/magento-lts" in requires;
  const php = phpFromComposer(composer);
  if (openmage || (!drupal && (await exists(path.join(codeRoot, "app", "Mage.php"))))) {
    return {
      preset: "openmage",
      php,
      docroot: "",
      reason: openmage
        ? "composer.json requires openmage/magento-lts"
        : "app/Mage.php found (OpenMage / Magento 1)",
    };
  }
  if (drupal)
    return {
      preset: "drupal",
      php,
      docroot: docroot ?? "web",
      reason: `composer.json requires ${drupal}`,
    };
  const pkg = await readJson(path.join(codeRoot, "package.json"));
  if (pkg && !composer) {
    const deps = Object.keys({ ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) });
    const services = Object.entries(NODE_CLIENTS)
      .filter(([, clients]) => clients.some((client) => deps.includes(client)))
      .map(([service]) => service);
    const uses = services.length > 0 ? ` using ${services.join(" and ")}` : "";
    return {
      preset: "node",
      docroot: undefined,
      reason: `package.json found (a Node service${uses})`,
      services,
    };
  }
  return {
    preset: undefined,
    docroot,
    reason: "no known framework found in composer.json or package.json",
  };
}

export function renderConfig(options: {
  project: string;
  preset: string;
  docroot: string | undefined;
  /** Path or URL of prodlike.schema.json for editors. */
  schemaRef: string;
  /** Optional preset services to turn on. */
  services?: string[] | undefined;
  /** The PHP composer.json asks for. */
  php?: ComposerPhp;
}): string {
  const node = options.preset === "node";
  return [
    `# yaml-language-server: $schema=${options.schemaRef}`,
    "# prodlike.yaml: how `prodlike up` builds this project's local environment.",
    "# Every field is optional; see README.md (Configuration).",
    `name: ${options.project}`,
    `preset: ${options.preset}`,
    ...(options.docroot === undefined
      ? []
      : [`docroot: ${options.docroot === "" ? '""' : options.docroot}`]),
    ...phpLines(options.php),
    "# Preferred host ports (bound to 127.0.0.1); a taken port moves to the next free one.",
    "ports:",
    `  web: ${node ? 3000 : 8080}`,
    ...(node
      ? [
          "# Dependencies the app uses (REDIS_URL, DATABASE_URL):",
          ...(options.services?.length
            ? ["services:", ...options.services.map((service) => `  ${service}: { enabled: true }`)]
            : ["# services:", "#   redis: { enabled: true }", "#   postgres: { enabled: true }"]),
        ]
      : []),
    `# Extra environment variables for the code containers (${node ? "app" : "php-fpm, cli"}):`,
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

/** The presets `init` can write a config for. */
export async function presetNames(): Promise<string[]> {
  const { listPresets } = await import("../topology/preset-loader.js");
  return listPresets();
}
