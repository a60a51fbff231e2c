import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  type TestProject,
} from "./support/harness.js";
import { mirrorRoundtripLayout } from "./support/production-layout.js";

// Production's layout on the real engine: a small production manifest set (nginx +
// php-fpm in one pod configured from ConfigMaps, MariaDB as a StatefulSet, a Secret) is
// mirrored and run with `up --mirror` on compose, its images mapped to the preset's local
// builds. The page answers through nginx -> php-fpm -> MariaDB with the local secret.

let project: TestProject;
const envId = () => `${project.name}-local`;

beforeAll(async () => {
  project = await copyExample("it-rt");
  await mirrorRoundtripLayout(project);
}, 900_000);

afterAll(async () => {
  await discardProject(project);
});

describe("up --mirror (production's layout on compose)", { timeout: 600_000 }, () => {
  it("runs the mirrored pods and answers through nginx -> php-fpm -> MariaDB", async () => {
    const up = await project.cli(["up", "--mirror", "--json"]);
    expectOk(up);
    const url = jsonField<Record<string, string>>(up, "urls").web;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await httpGet(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<span id="greeting">');
    // One container per production container; the sidecar shares the pod's network.
    const { containers } = await resourcesOf(envId());
    expect(containers).toHaveLength(3);
    const { stdout } = await execa("docker", [
      "inspect",
      "--format",
      "{{.HostConfig.NetworkMode}}",
      `${envId()}_web-php-fpm_1`,
    ]);
    expect(stdout.trim()).toMatch(/^container:/);
  });

  it("parity --against running reports only expected differences, then names a local change", async () => {
    const clean = await project.cli(["parity", "--against", "running", "--json"]);
    expectOk(clean);
    const differences = jsonField<{ field: string; expected: boolean }[]>(clean, "differences");
    expect(differences.map((difference) => difference.field).sort()).toEqual([
      "image-repository",
      "image-repository",
      "image-repository",
      "image-tag",
      "image-tag",
      "image-tag",
    ]);
    expect(differences.every((difference) => difference.expected)).toBe(true);

    // Someone changes the running environment by hand: an environment key renamed.
    const file = path.join(project.dir, ".prodlike", "mirror", "compose", "docker-compose.yml");
    await writeFile(file, (await readFile(file, "utf8")).replace("DB_PORT:", "DATABASE_PORT:"));
    await execa("docker-compose", [
      "--project-name",
      envId(),
      "--file",
      file,
      "up",
      "--detach",
      "--no-build",
    ]);
    const drifted = await project.cli(["parity", "--against", "running", "--json"]);
    expect(drifted.exitCode).toBe(1);
    expect(
      jsonField<
        { workload: string; container: string; field: string; expected: boolean; local: string }[]
      >(drifted, "differences").filter((difference) => !difference.expected),
    ).toMatchObject([{ workload: "web", container: "php-fpm", field: "env-names" }]);
  });

  it("parity asks the running containers for PHP and the database engine", async () => {
    // Production, as the team now declares it, loads redis and runs MySQL 8.0; the local
    // build has no redis extension and runs MariaDB. Extra local extensions (Debian's build
    // loads more) and the env key renamed above are allowed by the policy.
    const config = path.join(project.dir, "prodlike.yaml");
    await writeFile(
      config,
      (await readFile(config, "utf8"))
        .replace(
          'php-fpm: { php: "8.4" }',
          'php-fpm: { php: "8.4", extensions: [intl, pdo_mysql, "Zend OPcache", redis] }',
        )
        .replace('db: "mariadb 11.8"', 'db: "mysql 8.0"'),
    );
    const policy = path.join(project.dir, "parity-policy.yaml");
    await writeFile(
      policy,
      [
        "allow:",
        "  - { field: php-extensions-extra, reason: Debian's build loads more }",
        "  - { field: env-names, reason: renamed by the test above }",
        "",
      ].join("\n"),
    );
    const result = await project.cli([
      "parity",
      "--against",
      "running",
      "--policy",
      policy,
      "--json",
    ]);
    expect(result.exitCode).toBe(1);
    const differences = jsonField<
      { container: string; field: string; expected: boolean; production: string; local: string }[]
    >(result, "differences");
    expect(differences.filter((difference) => !difference.expected)).toMatchObject([
      { container: "php-fpm", field: "php-extensions-missing", production: "redis" },
      {
        container: "mariadb",
        field: "db-engine",
        production: "mysql 8.0",
        local: expect.stringMatching(/^mariadb 11\.8\.\d+$/),
      },
    ]);
    // PHP 8.4 matches: the version was read from the running php-fpm, not guessed.
    expect(differences.some((difference) => difference.field === "php-version")).toBe(false);
    expect(
      differences.find((difference) => difference.field === "php-extensions-extra")?.local,
    ).toContain("mbstring");
  });

  it("destroy removes it like any environment", async () => {
    expectOk(await project.cli(["destroy", "--keep-images"]));
    expect(await resourcesOf(envId())).toMatchObject({ containers: [], volumes: [], networks: [] });
  });
});
