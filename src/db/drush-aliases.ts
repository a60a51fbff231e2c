import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";

// Drush site aliases, read the way drush 9+ reads them: `drush/sites/NAME.site.yml` holds
// one record per environment (`@NAME.ENV`), and `self.site.yml`'s environments are also
// plain `@ENV`. They arrive with the code, so prodlike reads them from the code root on
// the host: which transport an alias uses decides how `db pull` copies its database.

export type AliasTransport = "ssh" | "kubectl" | "docker" | "local";

export interface DrushAlias {
  /** As the user may write it: `@prod`, `@site.prod`. */
  name: string;
  /** The file it comes from, relative to the code root. */
  file: string;
  transport: AliasTransport;
  host?: string | undefined;
  /** The ssh user (`user:`). */
  user?: string | undefined;
  /** The site's Drupal root on the host (`root:`). */
  root?: string | undefined;
  /** `paths: { files: … }`: the public files folder, as `drush rsync @alias:%files` uses it. */
  filesPath?: string | undefined;
  /** `paths: { drush-script: … }`: the drush to run there. */
  drushScript?: string | undefined;
  /** A kubectl alias's pod: `kubectl: { namespace, resource, container, kubeconfig }`. */
  kubectl?:
    | {
        namespace?: string | undefined;
        resource: string;
        container?: string | undefined;
        kubeconfig?: string | undefined;
      }
    | undefined;
  /** A docker alias's service (drush runs `docker-compose exec SERVICE`). */
  dockerService?: string | undefined;
}

export const ALIAS_DIR = path.join("drush", "sites");

// Keys a record has that say it is one alias rather than a map of environments.
const RECORD_KEYS = new Set(["root", "uri", "host", "user", "kubectl", "docker", "paths", "ssh"]);

export async function readDrushAliases(codeRoot: string): Promise<Map<string, DrushAlias>> {
  const folder = path.join(codeRoot, ALIAS_DIR);
  const files = (await readdir(folder).catch(() => [] as string[]))
    .filter((file) => file.endsWith(".site.yml"))
    .sort();
  const aliases = new Map<string, DrushAlias>();
  if (files.length === 0) return aliases;
  const { parse } = await import("yaml");
  for (const file of files) {
    const relative = path.join(ALIAS_DIR, file);
    let document: unknown;
    try {
      document = parse(await readFile(path.join(folder, file), "utf8"));
    } catch (error) {
      throw new ProdlikeError("CONFIG_SYNTAX", `${relative} is not valid YAML`, {
        hint: error instanceof Error ? (error.message.split("\n")[0] ?? "") : "",
      });
    }
    for (const alias of aliasesOfFile(file.slice(0, -".site.yml".length), relative, document)) {
      aliases.set(alias.name, alias);
    }
  }
  return aliases;
}

/** The aliases one site file defines (pure; exported for tests). */
export function aliasesOfFile(site: string, file: string, document: unknown): DrushAlias[] {
  if (!isRecord(document)) return [];
  if (Object.keys(document).some((key) => RECORD_KEYS.has(key))) {
    return [describe(`@${site}`, file, document)];
  }
  const aliases: DrushAlias[] = [];
  for (const [environment, record] of Object.entries(document)) {
    if (!isRecord(record)) continue;
    aliases.push(describe(`@${site}.${environment}`, file, record));
    if (site === "self") aliases.push(describe(`@${environment}`, file, record));
  }
  return aliases;
}

function describe(name: string, file: string, record: Record<string, unknown>): DrushAlias {
  const host = typeof record.host === "string" ? record.host : undefined;
  // Drush gives kubectl and docker precedence over host when a record has several.
  const transport: AliasTransport = isRecord(record.kubectl)
    ? "kubectl"
    : isRecord(record.docker)
      ? "docker"
      : host
        ? "ssh"
        : "local";
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const paths = isRecord(record.paths) ? record.paths : {};
  const kubectl = isRecord(record.kubectl) ? record.kubectl : undefined;
  const resource = text(kubectl?.resource);
  const docker = isRecord(record.docker) ? record.docker : undefined;
  return {
    name,
    file,
    transport,
    host,
    user: text(record.user),
    root: text(record.root),
    filesPath: text(paths.files),
    drushScript: text(paths["drush-script"]),
    ...(kubectl && resource
      ? {
          kubectl: {
            namespace: text(kubectl.namespace),
            resource,
            container: text(kubectl.container),
            kubeconfig: text(kubectl.kubeconfig),
          },
        }
      : {}),
    ...(docker ? { dockerService: text(docker.service) } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
