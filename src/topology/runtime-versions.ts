import {
  DATABASE_VERSIONS,
  type DatabaseVersion,
  type DebianSuite,
  PHP_SUITES,
  PHP_VERSIONS,
  type PhpVersion,
} from "../config/vocabulary.js";
import { ProdlikeError } from "../errors/prodlike-error.js";

// Which PHP and database versions prodlike can build, and from where. Debian gives one PHP
// and one MariaDB / PostgreSQL per release, all reachable from the mirror apt already
// uses: bookworm (Debian 12) PHP 8.2, MariaDB 10.11, PostgreSQL 15; trixie (Debian 13)
// PHP 8.4, MariaDB 11.8, PostgreSQL 17. The others exist only as official images on a
// registry (php:8.3-fpm, mysql:8.0), which prodlike does not build from.

const DATABASE_SUITES: Readonly<Record<DatabaseVersion, DebianSuite | undefined>> = {
  "mariadb:10.11": "bookworm",
  "mariadb:11.8": "trixie",
  "mysql:8.0": undefined,
  "mysql:8.4": undefined,
  "postgres:15": "bookworm",
  "postgres:17": "trixie",
};

/** What a preset's app runs on (preset.yaml `versions`), and its defaults. */
export interface PresetVersions {
  php?: { default: PhpVersion; supported: readonly PhpVersion[] } | undefined;
  database?: { default: DatabaseVersion; supported: readonly DatabaseVersion[] } | undefined;
  /** The Debian release of a preset without PHP (Node); a PHP preset builds on its PHP's. */
  suite: DebianSuite;
}

/** The versions an environment runs, each with the Debian release it is built from. */
export interface ChosenRuntime {
  php?: { version: PhpVersion; suite: DebianSuite };
  database?: { version: DatabaseVersion; engine: string; major: string; suite: DebianSuite };
  /** nginx, Redis, Varnish and the like: built on the PHP's release, so one base image
   *  serves a whole PHP environment. */
  suite: DebianSuite;
}

export function chooseRuntime(
  preset: { name: string; versions: PresetVersions },
  config: { php?: string | undefined; database?: { version?: string | undefined } | undefined },
  locate: (path: string[]) => string = (path) => `prodlike.yaml: ${path.join(".")}`,
): ChosenRuntime {
  try {
    return choose(preset, { php: config.php, database: config.database?.version });
  } catch (error) {
    // Said where the user wrote it: prodlike.yaml's line.
    if (error instanceof ProdlikeError && error.data?.field) {
      const field = String(error.data.field);
      throw new ProdlikeError(
        "CONFIG_INVALID",
        `${locate(field.split("."))}: ${error.message}`,
        error.hint ? { hint: error.hint } : {},
      );
    }
    throw error;
  }
}

function choose(
  preset: { name: string; versions: PresetVersions },
  wanted: { php?: string | undefined; database?: string | undefined },
): ChosenRuntime {
  const { versions } = preset;
  const chosen: ChosenRuntime = { suite: versions.suite };
  if (versions.php) {
    const version = supported(preset.name, "php", wanted.php, versions.php);
    const suite = PHP_SUITES[version] ?? notOffline("php", "PHP", version, versions.php.supported);
    chosen.php = { version, suite };
    chosen.suite = suite;
  } else if (wanted.php !== undefined) {
    throw versionError("php", `The ${preset.name} preset runs no PHP: \`php\` does not apply`, []);
  }
  if (versions.database) {
    const version = supported(preset.name, "database", wanted.database, versions.database);
    const suite =
      DATABASE_SUITES[version] ??
      notOffline("database", "The database", version, versions.database.supported);
    const [engine = "", major = ""] = version.split(":");
    chosen.database = { version, engine, major, suite };
  }
  return chosen;
}

function supported<T extends string>(
  preset: string,
  field: string,
  wanted: string | undefined,
  options: { default: T; supported: readonly T[] },
): T {
  if (wanted === undefined) return options.default;
  const match = options.supported.find((version) => version === wanted);
  if (match) return match;
  throw versionError(
    field,
    `The ${preset} preset does not run ${field} ${wanted}`,
    options.supported,
    field === "database" && /^postgres/.test(wanted)
      ? " Its database commands (import, export, snapshots, pull) speak MariaDB and MySQL."
      : "",
  );
}

function notOffline(
  field: string,
  what: string,
  version: string,
  choices: readonly string[],
): never {
  const buildable = choices.filter(
    (choice) =>
      (PHP_SUITES as Record<string, unknown>)[choice] ??
      (DATABASE_SUITES as Record<string, unknown>)[choice],
  );
  throw versionError(
    field,
    `${what} ${version} is not in Debian's packages: it exists only as the official image ${officialImageOf(version)}, which prodlike does not build from`,
    buildable,
    " Or run that image yourself: services.NAME.image in prodlike.yaml (it then brings its own config).",
  );
}

function versionError(
  field: string,
  message: string,
  choices: readonly string[],
  more = "",
): ProdlikeError {
  return new ProdlikeError("CONFIG_INVALID", message, {
    data: { field: field === "database" ? "database.version" : field },
    hint: `${choices.length > 0 ? `Choose one of: ${choices.join(", ")} (built from Debian's packages, offline).` : "Remove it from prodlike.yaml."}${more}`,
  });
}

function officialImageOf(version: string): string {
  return version.includes(":") ? version : `php:${version}-fpm`;
}

/** The closest version prodlike offers for what production runs (`8.4.12` -> `8.4`,
 *  `mariadb 11.8.3` -> `mariadb:11.8`); undefined when it offers none. */
export function offeredPhp(version: string): PhpVersion | undefined {
  const minor = /^(\d+\.\d+)/.exec(version)?.[1];
  return PHP_VERSIONS.find((offered) => offered === minor);
}

export function offeredDatabase(engine: string, version: string): DatabaseVersion | undefined {
  const name = engine === "postgresql" ? "postgres" : engine;
  // PostgreSQL numbers majors alone (17.6); MariaDB and MySQL major.minor (11.8.3).
  const major = /^(\d+(?:\.\d+)?)/.exec(version)?.[1] ?? "";
  const key = name === "postgres" ? major.split(".")[0] : major;
  return DATABASE_VERSIONS.find((offered) => offered === `${name}:${key}`);
}

// Extensions PHP's own package already holds (php-common, the SAPI), and the Debian
// package of those that share one: `pdo_mysql` is php8.4-mysql.
const BUILT_IN = new Set(
  (
    "core date libxml openssl pcre zlib filter hash json random reflection spl standard " +
    "session ctype fileinfo ftp iconv tokenizer posix sockets phar exif gettext calendar " +
    "shmop sysvmsg sysvsem sysvshm ffi pdo sodium pcntl readline"
  ).split(" "),
);
const PACKAGE_OF: Readonly<Record<string, string>> = {
  pdo_mysql: "mysql",
  mysqli: "mysql",
  mysqlnd: "mysql",
  pdo_pgsql: "pgsql",
  pdo_sqlite: "sqlite3",
  dom: "xml",
  simplexml: "xml",
  xmlreader: "xml",
  xmlwriter: "xml",
  xsl: "xml",
  "zend opcache": "opcache",
};

/** The Debian package suffixes (php8.4-SUFFIX) that bring these extensions. */
export function extensionPackages(extensions: readonly string[]): string[] {
  const packages = extensions
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "" && !BUILT_IN.has(name))
    .map((name) => PACKAGE_OF[name] ?? name.replace(/_/g, "-"));
  return [...new Set(packages)].sort();
}
