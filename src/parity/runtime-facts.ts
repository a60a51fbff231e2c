import { DB_DECLARATION } from "../config/vocabulary.js";

// What a container runs that its manifest does not say: the PHP version and extensions,
// the database engine and version. Production's come from its image reference when the
// image is an official one (php:8.2-fpm, mariadb:10.11) or from what the team declares
// (`mirror.runtime` in prodlike.yaml); a running local container is asked directly.

export type DbEngine = "mariadb" | "mysql" | "postgresql";

export interface RuntimeFacts {
  php?: { version: string; extensions?: string[] };
  db?: { engine: DbEngine; version: string };
}

/** Declared in prodlike.yaml: `php: "8.2"`, `extensions: [...]`, `db: "mariadb 10.11"`. */
export interface DeclaredRuntime {
  php?: string | undefined;
  extensions?: string[] | undefined;
  db?: string | undefined;
}

const DB_IMAGES: Record<string, DbEngine> = {
  mariadb: "mariadb",
  mysql: "mysql",
  "mysql-server": "mysql",
  percona: "mysql",
  "percona-server": "mysql",
  postgres: "postgresql",
  postgresql: "postgresql",
};

/** Facts an image reference tells by itself: official images only (Docker Hub's library
 *  and bitnami). A custom registry's `shop/php:2024.11` tag is the app's version, not
 *  PHP's, so custom images tell nothing; `mirror.runtime` declares them. */
export function factsFromImage(repository: string, tag: string): RuntimeFacts {
  const official = /^(?:docker\.io\/)?(?:library\/|bitnami\/)?([a-z0-9-]+)$/.exec(repository)?.[1];
  if (!official) return {};
  const leadingVersion = /^(\d+(?:\.\d+){0,2})(?:[-_]|$)/.exec(tag)?.[1];
  const engine = DB_IMAGES[official];
  if (engine && leadingVersion) return { db: { engine, version: leadingVersion } };
  if (/^php(?:-fpm|-cli|-apache)?$/.test(official) && leadingVersion)
    return { php: { version: leadingVersion } };
  // drupal:10-php8.3-fpm, wordpress:6-php8.2: the PHP version is in the tag.
  const phpInTag = /(?:^|-)php(\d+\.\d+)(?:-|$)/.exec(tag)?.[1];
  if (phpInTag) return { php: { version: phpInTag } };
  return {};
}

export function declaredFacts(declared: DeclaredRuntime): RuntimeFacts {
  const db = declared.db ? DB_DECLARATION.exec(declared.db) : null;
  return {
    ...(declared.php
      ? {
          php: {
            version: declared.php,
            ...(declared.extensions
              ? { extensions: normalizeExtensions(declared.extensions) }
              : {}),
          },
        }
      : {}),
    ...(db ? { db: { engine: db[1] as DbEngine, version: db[2] ?? "" } } : {}),
  };
}

/** Declared facts win over the image's: the team knows what its custom image holds. */
export function mergeFacts(base: RuntimeFacts, over: RuntimeFacts): RuntimeFacts {
  return { ...base, ...over };
}

// Run with `sh -c` in a running container. PHP is asked through the FPM binary when there
// is one (its SAPI loads the FPM ini, which is what serves pages), else the CLI. Database
// servers answer --version without starting. Prints nothing for other containers.
export const RUNTIME_PROBE = [
  "fpm=$(ls /usr/sbin/php-fpm* /usr/local/sbin/php-fpm 2>/dev/null | head -n1)",
  'php=$fpm; [ -n "$php" ] || php=$(command -v php)',
  'if [ -n "$php" ]; then echo "php=$("$php" -v | head -n1)"; echo "php-modules=$("$php" -m | tr \'\\n\' ,)"; fi',
  'for d in mariadbd mysqld; do p=$(command -v $d || ls /usr/sbin/$d 2>/dev/null); if [ -n "$p" ]; then echo "db=$("$p" --version)"; break; fi; done',
  'p=$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null | head -n1); [ -n "$p" ] || p=$(command -v postgres); if [ -n "$p" ]; then echo "db=$("$p" --version)"; fi',
  "true",
].join("\n");

export function parseProbe(output: string): RuntimeFacts {
  const facts: RuntimeFacts = {};
  const lines = new Map(
    output
      .split("\n")
      .map((line) => /^([a-z-]+)=(.*)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1], match[2] ?? ""]),
  );
  const php = /^PHP (\d+\.\d+\.\d+)/.exec(lines.get("php") ?? "")?.[1];
  if (php) {
    const modules = (lines.get("php-modules") ?? "")
      .split(",")
      // -m lists Zend extensions (OPcache, Xdebug) twice, once under [Zend Modules].
      .filter((module) => module && !module.startsWith("["));
    facts.php = { version: php, extensions: normalizeExtensions(modules) };
  }
  const db = lines.get("db") ?? "";
  const postgres = /\(PostgreSQL\) (\d+(?:\.\d+)*)/.exec(db)?.[1];
  const mysqlFamily = /Ver (\d+\.\d+\.\d+)(-[^\s]*)?/.exec(db);
  if (postgres) facts.db = { engine: "postgresql", version: postgres };
  else if (mysqlFamily?.[1]) {
    const mariadb = /mariadb/i.test(mysqlFamily[2] ?? "") || /mariadbd/.test(db);
    facts.db = { engine: mariadb ? "mariadb" : "mysql", version: mysqlFamily[1] };
  }
  return facts;
}

// "Zend OPcache" and "opcache" are one extension; names compare lowercased.
function normalizeExtensions(names: readonly string[]): string[] {
  return [
    ...new Set(
      names.map((name) =>
        name
          .trim()
          .toLowerCase()
          .replace(/^zend /, ""),
      ),
    ),
  ]
    .filter(Boolean)
    .sort();
}

/** Whether a local version matches production's to the precision production gives. */
export function sameVersion(production: string, local: string): boolean {
  const wanted = production.split(".");
  const have = local.split(".");
  return wanted.every((part, index) => have[index] === part);
}
