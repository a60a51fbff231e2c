import { appendFile, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  describeFailure,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// The versions prodlike.yaml chooses, built offline from Debian (bookworm: PHP 8.2,
// MariaDB 10.11, PostgreSQL 15; trixie: PHP 8.4, MariaDB 11.8, PostgreSQL 17), each
// serving the example app and answering its version; and `parity --write`, which turns a
// production runtime that differs into prodlike.yaml choices the next `up` builds.

const ENVFROM = fileURLToPath(new URL("../fixtures/manifests/envfrom.yaml", import.meta.url));

let drupal: TestProject;
let node: TestProject;
let mirrored: TestProject;

beforeAll(async () => {
  [drupal, node, mirrored] = await Promise.all([
    copyExample("it-rv"),
    copyExample("it-rv-node", "node-service"),
    copyExample("it-rv-mirror"),
  ]);
});

afterAll(async () => {
  await discardProject(drupal, ["local", "old"]);
  await discardProject(node);
  await discardProject(mirrored);
});

const config = (project: TestProject) => path.join(project.dir, "prodlike.yaml");

async function versionsIn(project: TestProject, name: string): Promise<string> {
  const php = await shellIn(project, "php-fpm", "php-fpm -v | head -n1; php -m | tr '\\n' ' '", {
    name,
  });
  expectOk(php);
  const db = await shellIn(project, "db", "mariadbd --version", { name });
  expectOk(db);
  return `${php.stdout}\n${db.stdout}`;
}

describe("runtime versions from prodlike.yaml", { timeout: 900_000 }, () => {
  it("runs the Drupal preset's defaults, PHP 8.4 and MariaDB 11.8 (Debian trixie)", async () => {
    const url = await upForWebUrl(drupal);
    const page = await httpGet(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/with PHP 8\.4\.\d+/);
    expect(await versionsIn(drupal, "local")).toMatch(
      /^PHP 8\.4\.\d+ \(fpm-fcgi\)[\s\S]*Ver 11\.8\.\d+-MariaDB/,
    );
    // The cli container runs the same PHP as php-fpm.
    const cli = await shellIn(drupal, "cli", "php -r 'echo PHP_VERSION;'");
    expect(cli.stdout).toMatch(/^8\.4\./);
  });

  it("builds PHP 8.2 and MariaDB 10.11 (Debian bookworm) with an extension the preset lacks", async () => {
    await appendFile(
      config(drupal),
      'php: "8.2"\ndatabase: { version: "mariadb:10.11", name: drupal }\nphpExtensions: [redis]\n',
    );
    const url = await upForWebUrl(drupal, ["--name", "old"]);
    const page = await httpGet(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/with PHP 8\.2\.\d+/);
    const versions = await versionsIn(drupal, "old");
    expect(versions).toMatch(/^PHP 8\.2\.\d+ \(fpm-fcgi\)/);
    expect(versions).toMatch(/Ver 10\.11\.\d+-MariaDB/);
    expect(versions).toMatch(/ redis /);
    // The preset's own php.ini applies on this version too (mounted where 8.2 reads it).
    const ini = await shellIn(
      drupal,
      "php-fpm",
      "php-fpm -i | grep -E '^opcache.revalidate_freq'",
      { name: "old" },
    );
    expect(ini.stdout).toMatch(/opcache.revalidate_freq => 0/);
  });

  it("says PHP 8.3 exists only as an official image, naming the line, and what builds offline", async () => {
    const text = await readFile(config(drupal), "utf8");
    await writeFile(config(drupal), text.replace('php: "8.2"', 'php: "8.3"'));
    const up = await drupal.cli(["up", "--name", "old", "--json"]);
    expect(up.exitCode, describeFailure(up)).toBe(2);
    const error = jsonField<{ code: string; message: string; hint: string }>(up, "error");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(
      /prodlike\.yaml:\d+.*PHP 8\.3 is not in Debian's packages.*php:8\.3-fpm/,
    );
    expect(error.hint).toContain("8.2, 8.4");
    // The running environment was left as it was.
    const page = await httpGet(
      jsonField<Record<string, string>>(
        await drupal.cli(["status", "--name", "old", "--json"]),
        "urls",
      ).web ?? "",
    );
    expect(page.body).toMatch(/with PHP 8\.2\./);
    await writeFile(config(drupal), text);
  });

  it("runs the Node preset on Node 24 with PostgreSQL 15 (bookworm) when asked", async () => {
    await appendFile(
      config(node),
      '  postgres: { enabled: true }\ndatabase: "postgres:15"\nnode: "24"\n',
    );
    const url = await upForWebUrl(node);
    const health = await httpGet(`${url}/healthz`);
    expect(JSON.parse(health.body)).toMatchObject({ postgres: true });
    const version = await shellIn(node, "postgres", "postgres --version");
    expect(version.stdout).toMatch(/\(PostgreSQL\) 15\.\d+/);
    const runtime = await shellIn(node, "app", "node --version");
    expect(runtime.stdout.trim()).toMatch(/^v24\.\d+\.\d+$/);
  });
});

describe("parity --write follows production's runtime", { timeout: 900_000 }, () => {
  it("writes production's PHP, database and missing extension; the next up matches", async () => {
    // The site's settings files, as a first preset `up` writes them into the checkout.
    expectOk(await mirrored.cli(["up"]));
    expectOk(await mirrored.cli(["destroy", "--keep-images"]));
    // Production (the envfrom layout) runs custom images whose runtime the team declares:
    // PHP 8.4 with redis, MariaDB 11.8. Locally the preset's builds stand in for them, at
    // the versions prodlike.yaml chooses: 8.2 and 10.11 to start with.
    await appendFile(
      config(mirrored),
      [
        'php: "8.2"',
        'database: "mariadb:10.11"',
        "mirror:",
        "  images:",
        "    registry.example.com/rt/php: preset:php-fpm",
        "    registry.example.com/rt/nginx: preset:web",
        "    registry.example.com/rt/mariadb: preset:db",
        "  codeMount: { path: /var/www/html, containers: [nginx, php-fpm] }",
        "  runtime:",
        '    php-fpm: { php: "8.4", extensions: [intl, pdo_mysql, redis] }',
        '    db/mariadb: { db: "mariadb 11.8" }',
        "",
      ].join("\n"),
    );
    expectOk(await mirrored.cli(["mirror", "--from", ENVFROM]));
    expectOk(await mirrored.cli(["up", "--mirror", "--health-timeout", "180"]));
    const runtimeFields = ["php-version", "php-extensions-missing", "db-engine"];
    const runtimeDifferences = async () => {
      const parity = await mirrored.cli(["parity", "--against", "running", "--json"]);
      return jsonField<{ field: string; production: string; local: string }[]>(
        parity,
        "differences",
      ).filter((difference) => runtimeFields.includes(difference.field));
    };
    expect((await runtimeDifferences()).map((difference) => difference.field).sort()).toEqual(
      runtimeFields.slice().sort(),
    );

    const written = await mirrored.cli(["parity", "--against", "running", "--write", "--json"]);
    expect(jsonField<object>(written, "written")).toMatchObject({
      php: "8.4",
      database: "mariadb:11.8",
      addExtensions: ["redis"],
      changed: true,
    });
    const text = await readFile(config(mirrored), "utf8");
    expect(text).toContain('php: "8.4"');
    // The value takes the quoting the user wrote.
    expect(text).toContain('database: "mariadb:11.8"');
    expect(text).toMatch(/phpExtensions: \[ redis \]/);
    // Comments and the rest of the file are the user's: kept.
    expect(text).toContain("mirror:\n  images:");

    // The next up rebuilds to match, on the data the environment had (MariaDB upgrades
    // the 10.11 system tables once); then no runtime difference is left.
    expectOk(await mirrored.cli(["up", "--mirror", "--health-timeout", "180"]));
    expect(await runtimeDifferences()).toEqual([]);
    const db = await shellIn(mirrored, "db", "mariadbd --version");
    expect(db.stdout).toMatch(/Ver 11\.8\./);
  });
});
