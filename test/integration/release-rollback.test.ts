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
  rootSql,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// An `up` whose new release does not come up, on the real engine: the previous images and
// configuration are started again on the same volume, the data written since the last
// good release is still there, and the exit code says "rolled back" (6). By hand,
// `rollback` goes back on the same data, and `rollback --data` to the data the old release
// left when it was replaced.

let project: TestProject;
let webUrl: string;

beforeAll(async () => {
  project = await copyExample("it-release");
  webUrl = await upForWebUrl(project);
}, 600_000);

afterAll(async () => {
  await discardProject(project);
});

// Which release runs: the RELEASE_MARK the changed configurations give php-fpm.
const mark = async () =>
  (await project.cli(["exec", "php-fpm", "--", "sh", "-c", "printenv RELEASE_MARK || echo none"]))
    .stdout;

const phpFpmImage = async () =>
  (await execa("docker", ["inspect", "-f", "{{.Config.Image}}", `${project.name}-local_php-fpm_1`]))
    .stdout;

describe("a release that does not come up", { timeout: 300_000 }, () => {
  it("rolls back to the previous images and configuration, keeping the newer data (exit 6)", async () => {
    const good = await phpFpmImage();
    await rootSql(project, "REPLACE INTO greeting VALUES (1, 'written-after-release')");
    const config = path.join(project.dir, "prodlike.yaml");
    const original = await readFile(config, "utf8");
    try {
      // An image without php-fpm: the new php-fpm container cannot start.
      await writeFile(config, `${original}services:\n  php-fpm:\n    image: debian:trixie-slim\n`);
      const up = await project.cli(["up", "--json", "--health-timeout", "60"]);
      expect(up.exitCode, up.stdout).toBe(6);
      expect(jsonField<{ code: string; hint: string }>(up, "error")).toMatchObject({
        code: "ROLLED_BACK",
        hint: expect.stringContaining("php-fpm"),
      });
      expect(await phpFpmImage()).toBe(good);
      const page = await httpGet(`${webUrl}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<span id="greeting">written-after-release</span>');
    } finally {
      await writeFile(config, original);
    }
    // The previous release is what runs: the original configuration changes nothing.
    const again = await project.cli(["up", "--json"]);
    expectOk(again);
    expect(jsonField<boolean>(again, "changed")).toBe(false);
  });

  it("rollback goes back to the release before the last change by hand, and forward again", async () => {
    const config = path.join(project.dir, "prodlike.yaml");
    const original = await readFile(config, "utf8");
    try {
      await writeFile(config, `${original}env:\n  RELEASE_MARK: two\n`);
      expectOk(await project.cli(["up", "--json"]));
      expect(await mark()).toBe("two");
      const back = await project.cli(["rollback", "--json"]);
      expectOk(back);
      expect(await mark()).toBe("none");
      expect((await httpGet(`${webUrl}/`)).body).toContain("written-after-release");
      expectOk(await project.cli(["rollback", "--json"]));
      expect(await mark()).toBe("two");
    } finally {
      await writeFile(config, original);
    }
  });

  it("rollback --data brings back the code and the data the old release left, and forward again", async () => {
    const config = path.join(project.dir, "prodlike.yaml");
    const original = await readFile(config, "utf8");
    const greeting = async () =>
      /<span id="greeting">([^<]*)<\/span>/.exec((await httpGet(`${webUrl}/`)).body)?.[1];
    try {
      // The kept release came from a code-only rollback: no data of its own to go back to,
      // and nothing changes.
      const refused = await project.cli(["rollback", "--data", "--json"]);
      expect(refused.exitCode, refused.stdout).toBe(4);
      expect(jsonField<{ code: string }>(refused, "error").code).toBe("SNAPSHOT_NOT_FOUND");
      expect(await mark()).toBe("two");

      await rootSql(project, "REPLACE INTO greeting VALUES (1, 'left-by-two')");
      await writeFile(config, `${original}env:\n  RELEASE_MARK: three\n`);
      expectOk(await project.cli(["up", "--json"]));
      expect(await mark()).toBe("three");
      // What the new release does to the data (a migration, say).
      await rootSql(project, "REPLACE INTO greeting VALUES (1, 'migrated-by-three')");

      const back = await project.cli(["rollback", "--data", "--json"]);
      expectOk(back);
      const data = jsonField<{ restored: string; saved: string }>(back, "data");
      expect(data.restored).toMatch(/^before-release-/);
      expect(data.saved).toMatch(/^before-rollback-/);
      expect(await mark()).toBe("two");
      expect(await greeting()).toBe("left-by-two");

      // The restored data is live: only the snapshot kept with the release left remains.
      const list = await project.cli(["snapshot", "list", "--json"]);
      const names = jsonField<{ name: string; automatic?: boolean }[]>(list, "snapshots")
        .filter((meta) => meta.automatic)
        .map((meta) => meta.name);
      expect(names).toEqual([data.saved]);

      // Forward again: the newer release with the data it had written.
      expectOk(await project.cli(["rollback", "--data", "--json"]));
      expect(await mark()).toBe("three");
      expect(await greeting()).toBe("migrated-by-three");
    } finally {
      await writeFile(config, original);
    }
  });

  it("rollback --data refuses a damaged snapshot before switching anything", async () => {
    const automatic = async () =>
      jsonField<{ name: string; automatic?: boolean }[]>(
        await project.cli(["snapshot", "list", "--json"]),
        "snapshots",
      )
        .filter((meta) => meta.automatic)
        .map((meta) => meta.name);
    // The kept release's data: the snapshot taken when the last rollback left it.
    const [kept] = await automatic();
    expect(kept).toMatch(/^before-rollback-/);
    // No prepared copy to fall back on, and the stream damaged.
    expectOk(await shellIn(project, "db", `rm -rf /var/lib/mysql/.prodlike-prepared/${kept}*`));
    const file = path.join(
      project.home,
      "snapshots",
      `${project.name}-local`,
      kept ?? "",
      "data.mbstream",
    );
    const data = await readFile(file);
    const middle = Math.floor(data.length / 2);
    data[middle] = (data[middle] ?? 0) ^ 0xff;
    await writeFile(file, data);

    const refused = await project.cli(["rollback", "--data", "--json"]);
    expect(refused.exitCode, refused.stdout).toBe(1);
    expect(jsonField<{ code: string }>(refused, "error").code).toBe("SNAPSHOT_CORRUPT");
    // Neither the code nor the data moved, and no snapshot was taken for nothing.
    expect(await mark()).toBe("three");
    expect((await httpGet(`${webUrl}/`)).body).toContain("migrated-by-three");
    expect(await automatic()).toEqual([kept]);
  });

  it("keeps older releases: releases lists them, rollback --to goes back to one", async () => {
    const listed = await project.cli(["releases", "--json"]);
    expectOk(listed);
    const ids = jsonField<{ id: string; keptAt: string }[]>(listed, "releases").map(
      (release) => release.id,
    );
    // The previous release (two) and the one before it (none); each kept once.
    expect(ids).toHaveLength(2);
    const oldest = ids[1] ?? "";
    const withData = await project.cli(["rollback", "--to", oldest, "--data", "--json"]);
    expect(withData.exitCode, withData.stdout).toBe(2);
    const unknown = await project.cli(["rollback", "--to", "20990101-000000-000", "--json"]);
    expect(unknown.exitCode, unknown.stdout).toBe(4);
    expect(jsonField<{ code: string }>(unknown, "error").code).toBe("RELEASE_NOT_FOUND");
    expect(await mark()).toBe("three");

    expectOk(await project.cli(["rollback", "--to", oldest, "--json"]));
    expect(await mark()).toBe("none");
    expect((await httpGet(`${webUrl}/`)).body).toContain("migrated-by-three");
    // The release left (three) is the one to go back to now.
    expectOk(await project.cli(["rollback", "--json"]));
    expect(await mark()).toBe("three");
  });
});
