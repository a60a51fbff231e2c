import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import { isProdlikeError } from "../../../src/errors/prodlike-error.js";
import { loadPreset } from "../../../src/topology/preset-loader.js";
import {
  chooseRuntime,
  extensionPackages,
  offeredDatabase,
  offeredPhp,
} from "../../../src/topology/runtime-versions.js";
import { drupalTopology } from "../../support/drupal-topology.js";

const drupal = (await loadPreset("drupal")).definition;
const node = (await loadPreset("node")).definition;
const openmage = (await loadPreset("openmage")).definition;

function errorOf(run: () => unknown): { code: string; message: string; hint?: string | undefined } {
  try {
    run();
  } catch (error) {
    if (isProdlikeError(error)) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("chooseRuntime", () => {
  it("gives each preset its framework's newest offline versions by default", () => {
    expect(chooseRuntime(drupal, {})).toEqual({
      php: { version: "8.4", suite: "trixie" },
      database: { version: "mariadb:11.8", engine: "mariadb", major: "11.8", suite: "trixie" },
      suite: "trixie",
    });
    expect(chooseRuntime(openmage, {})).toMatchObject({
      php: { version: "8.2", suite: "bookworm" },
      database: { version: "mariadb:10.11", suite: "bookworm" },
      suite: "bookworm",
    });
    expect(chooseRuntime(node, {})).toEqual({
      database: { version: "postgres:17", engine: "postgres", major: "17", suite: "trixie" },
      suite: "trixie",
    });
  });

  it("builds the rest of a PHP environment on its PHP's release, the database on its own", () => {
    const runtime = chooseRuntime(drupal, { php: "8.2", database: { version: "mariadb:11.8" } });
    expect(runtime.suite).toBe("bookworm");
    expect(runtime.database?.suite).toBe("trixie");
    expect(chooseRuntime(node, { database: { version: "postgres:15" } }).database).toMatchObject({
      major: "15",
      suite: "bookworm",
    });
  });

  it("says where the official-image-only versions come from, and what builds offline", () => {
    const php = errorOf(() =>
      chooseRuntime(drupal, { php: "8.3" }, (path) => `/p/prodlike.yaml:3 (${path.join(".")})`),
    );
    expect(php.code).toBe("CONFIG_INVALID");
    expect(php.message).toBe(
      "/p/prodlike.yaml:3 (php): PHP 8.3 is not in Debian's packages: it exists only as the official image php:8.3-fpm, which prodlike does not build from",
    );
    expect(php.hint).toContain("Choose one of: 8.2, 8.4");
    const mysql = errorOf(() => chooseRuntime(drupal, { database: { version: "mysql:8.0" } }));
    expect(mysql.message).toContain("database.version: The database mysql:8.0");
    expect(mysql.hint).toContain("mariadb:10.11, mariadb:11.8");
  });

  it("refuses what the preset's app does not run", () => {
    const postgres = errorOf(() => chooseRuntime(drupal, { database: { version: "postgres:17" } }));
    expect(postgres.message).toContain("The drupal preset does not run database postgres:17");
    expect(postgres.hint).toContain("speak MariaDB and MySQL");
    expect(errorOf(() => chooseRuntime(node, { php: "8.4" })).message).toContain("runs no PHP");
  });
});

describe("the Drupal preset on another PHP", () => {
  it("passes the version as build arguments, tags by them and mounts its config where that PHP reads it", async () => {
    const on84 = await drupalTopology();
    const on82 = await drupalTopology(configSchema.parse({ php: "8.2", phpExtensions: ["redis"] }));
    const php = (topology: typeof on84) =>
      topology.services.find((service) => service.name === "php-fpm");
    expect(php(on82)?.image).toMatchObject({
      buildArgs: { DEBIAN_SUITE: "bookworm", PHP_VERSION: "8.2", PHP_EXTRA: "redis" },
    });
    expect(php(on84)?.image).toMatchObject({
      buildArgs: { DEBIAN_SUITE: "trixie", PHP_VERSION: "8.4", PHP_EXTRA: "" },
    });
    const tag = (topology: typeof on84) => {
      const image = php(topology)?.image;
      return image?.kind === "build" ? image.tag : "";
    };
    expect(tag(on82)).not.toBe(tag(on84));
    expect(php(on82)?.mounts).toContainEqual({
      type: "config",
      file: "php.ini",
      target: "/etc/php/8.2/fpm/conf.d/99-prodlike.ini",
    });
  });

  it("reads `database` as a version or as { version, name, user }", () => {
    expect(configSchema.parse({ database: "mariadb:10.11" }).database).toEqual({
      version: "mariadb:10.11",
    });
    expect(configSchema.parse({ database: { name: "shop" } }).database).toEqual({ name: "shop" });
    expect(configSchema.safeParse({ database: "mariadb:10.6" }).success).toBe(false);
  });
});

describe("extensionPackages", () => {
  it("names Debian's package for each extension, leaving out what PHP's own package holds", () => {
    expect(
      extensionPackages(["pdo_mysql", "mysqli", "Zend OPcache", "json", "redis", "imagick", "dom"]),
    ).toEqual(["imagick", "mysql", "opcache", "redis", "xml"]);
    expect(extensionPackages([])).toEqual([]);
  });
});

describe("offered versions", () => {
  it("maps what production runs to the version prodlike offers, or none", () => {
    expect(offeredPhp("8.4.12")).toBe("8.4");
    expect(offeredPhp("8.1.2")).toBeUndefined();
    expect(offeredDatabase("mariadb", "11.8.3")).toBe("mariadb:11.8");
    expect(offeredDatabase("postgresql", "17.6")).toBe("postgres:17");
    expect(offeredDatabase("mysql", "8.0.36")).toBe("mysql:8.0");
    expect(offeredDatabase("mariadb", "10.6.18")).toBeUndefined();
  });
});
