import { createHash } from "node:crypto";
import { appendFile, readdir, readFile, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullConfigYaml, startProductionServer } from "../support/production-server.js";
import {
  CLI,
  copyExample,
  discardProject,
  environmentNetwork,
  expectOk,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// files pull on the real engine: rsync over ssh from a "production" container with a
// files tree into the checkout, served by the local environment and owned by the
// developer; a second pull moves only what changed; a connection cut halfway leaves the
// files as they were.

let project: TestProject;
let production: Awaited<ReturnType<typeof startProductionServer>>;
let webUrl: string;
const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const local = () => path.join(project.dir, "web", "sites", "default", "files");

async function onProduction(script: string): Promise<string> {
  const result = await execa("docker", ["exec", production.name, "sh", "-c", script]);
  return result.stdout.trim();
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

beforeAll(async () => {
  production = await startProductionServer("files");
  // 300 small images in 3 folders, 5 large ones, and generated derivatives (excluded).
  await onProduction(
    [
      "set -e",
      "for d in 1 2 3; do mkdir -p /srv/files/d$d; for i in $(seq 1 100); do echo image-$d-$i > /srv/files/d$d/p$i.jpg; done; done",
      "for i in 1 2 3 4 5; do head -c 4000000 /dev/urandom > /srv/files/large$i.jpg; done",
      "mkdir -p /srv/files/styles/thumb && echo derived > /srv/files/styles/thumb/p1.jpg",
      "chown -R deploy /srv/files",
    ].join("\n"),
  );
  project = await copyExample("it-files");
  await appendFile(
    path.join(project.dir, "prodlike.yaml"),
    [
      // The same production container, also reached with docker exec (no ssh).
      pullConfigYaml(production).replace(
        "  ssh:\n",
        `    prod-docker:\n      docker: { container: ${production.name} }\n      database: { name: drupal_prod }\n  ssh:\n`,
      ),
      "files:\n  from: prod\n  remote: /srv/files\n",
    ].join(""),
  );
  webUrl = await upForWebUrl(project);
}, 600_000);

afterAll(async () => {
  await discardProject(project);
  await production?.stop();
});

describe("prodlike files pull", { timeout: 300_000 }, () => {
  it("copies production's files into the checkout, served locally and owned by the developer", async () => {
    const pulled = await project.cli(["files", "pull", "--json"]);
    expectOk(pulled);
    expect(pulled.json).toMatchObject({ ok: true, files: 305, transferred: 305 });
    const files = await filesUnder(local());
    expect(files).toHaveLength(305);
    expect(files.some((file) => file.startsWith("styles"))).toBe(false);
    const info = await stat(path.join(local(), "d2", "p7.jpg"));
    expect({ uid: info.uid, gid: info.gid }).toEqual(me);
    const served = await fetch(`${webUrl}/sites/default/files/d2/p7.jpg`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe("image-2-7\n");
  });

  it("moves only what changed on a second pull", async () => {
    await onProduction(
      "echo changed-1 > /srv/files/d1/p1.jpg; echo changed-2 > /srv/files/d2/p2.jpg; echo new > /srv/files/d3/new.jpg",
    );
    const again = await project.cli(["files", "pull", "--json"]);
    expectOk(again);
    expect(again.json).toMatchObject({ files: 306, transferred: 3 });
    expect(await readFile(path.join(local(), "d1", "p1.jpg"), "utf8")).toBe("changed-1\n");
    const none = await project.cli(["files", "pull", "--json"]);
    expect(none.json).toMatchObject({ transferred: 0 });
  });

  it("pulls over docker exec too, moving only what changed", async () => {
    await onProduction("echo over-docker > /srv/files/d3/p3.jpg");
    const pulled = await project.cli(["files", "pull", "prod-docker", "--json"]);
    expectOk(pulled);
    expect(pulled.json).toMatchObject({ source: "prod-docker", transferred: 1 });
    expect(await readFile(path.join(local(), "d3", "p3.jpg"), "utf8")).toBe("over-docker\n");
    const info = await stat(path.join(local(), "d3", "p3.jpg"));
    expect({ uid: info.uid, gid: info.gid }).toEqual(me);
  });

  it("leaves the files as they were when the connection is cut halfway", async () => {
    const sha = async (file: string) =>
      createHash("sha256")
        .update(await readFile(path.join(local(), file)))
        .digest("hex");
    const before = { files: await filesUnder(local()), p5: await sha("d1/p5.jpg") };
    // A change, a deletion and 300 MB of new files on production; the pull is cut once
    // rsync has started writing them.
    await onProduction(
      "echo rewritten > /srv/files/d1/p5.jpg; rm /srv/files/d2/p9.jpg; mkdir -p /srv/files/new; for i in $(seq 1 300); do head -c 1000000 /dev/urandom > /srv/files/new/n$i.jpg; done; chown -R deploy /srv/files",
    );
    const pulling = execa("node", [CLI, "files", "pull", "--json"], {
      cwd: project.dir,
      reject: false,
      env: { PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
    });
    const started = Date.now();
    for (;;) {
      const names = await readdir(path.join(local(), "new")).catch(() => [] as string[]);
      if (names.length > 0 || Date.now() - started > 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The ssh session's rsync on production dies: a connection cut as it would be.
    await onProduction(
      "for p in /proc/[0-9]*; do grep -qx rsync $p/comm 2>/dev/null && kill -9 $(basename $p); done; true",
    );
    const cut = await pulling;
    expect(cut.exitCode, cut.stderr).toBe(1);
    expect(JSON.parse(cut.stdout)).toMatchObject({ ok: false, error: { code: "PULL_FAILED" } });
    // Nothing changed, nothing deleted: updates and deletions wait for the whole pull.
    expect(await sha("d1/p5.jpg")).toBe(before.p5);
    const after = (await filesUnder(local())).filter(
      (file) => !file.includes(".~tmp~") && !file.includes(".prodlike-partial"),
    );
    expect(after).toEqual(before.files);
    // The next pull completes it.
    const completed = await project.cli(["files", "pull", "--json"]);
    expectOk(completed);
    expect(await readFile(path.join(local(), "d1", "p5.jpg"), "utf8")).toBe("rewritten\n");
    expect((await filesUnder(local())).filter((file) => file.startsWith("new/"))).toHaveLength(300);
  });

  it("fetches a file only production has once through files.proxy, then serves it from disk", async () => {
    await onProduction(
      "mkdir -p /srv/web/sites/default/files/remote && echo from-production > /srv/web/sites/default/files/remote/only-there.jpg",
    );
    await execa("docker", [
      "exec",
      "-d",
      production.name,
      "busybox",
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/srv/web",
    ]);
    const network = await environmentNetwork(`${project.name}-local`);
    await execa("docker", [
      "network",
      "connect",
      "--alias",
      "production-web",
      network,
      production.name,
    ]);
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      "  proxy: http://production-web:8080\n",
    );
    expectOk(await project.cli(["up", "--json"]));
    // status says where missing files come from.
    const status = await project.cli(["status", "--json"]);
    expect(status.json).toMatchObject({
      environment: { filesProxy: "http://production-web:8080" },
    });
    expect((await project.cli(["status"])).stdout).toContain(
      "fetched once from http://production-web:8080",
    );
    const url = `${webUrl}/sites/default/files/remote/only-there.jpg`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("from-production\n");
    const stored = path.join(local(), "remote", "only-there.jpg");
    const info = await stat(stored);
    expect({ uid: info.uid, gid: info.gid }).toEqual(me);
    // Production gone: the copy on disk answers.
    await onProduction("rm -rf /srv/web");
    const again = await fetch(url);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("from-production\n");
    // A file production does not have either is Drupal's to answer (404 here).
    expect((await fetch(`${webUrl}/sites/default/files/remote/nowhere.jpg`)).status).toBeLessThan(
      500,
    );
  });

  it("never copies or serves a symlink from production that points outside the files folder", async () => {
    // The hostile links of issue #31: production's /etc/passwd through a relative path,
    // the site's settings.php beside the files folder, an absolute path; one harmless link.
    await onProduction(
      [
        "ln -s ../../../../etc/passwd /srv/files/rel-passwd",
        "ln -s ../settings.php /srv/files/site-settings",
        "ln -s /etc/passwd /srv/files/d1/abs-passwd",
        "ln -s d1/p1.jpg /srv/files/ok-link",
        "chown -h deploy /srv/files/rel-passwd /srv/files/site-settings /srv/files/d1/abs-passwd /srv/files/ok-link",
      ].join(" && "),
    );
    const pulled = await project.cli(["files", "pull", "--json"]);
    expectOk(pulled);
    expect([...((pulled.json?.unsafeLinks as string[] | undefined) ?? [])].sort()).toEqual([
      "d1/abs-passwd -> /etc/passwd",
      "rel-passwd -> ../../../../etc/passwd",
      "site-settings -> ../settings.php",
    ]);
    const text = await project.cli(["files", "pull"]);
    expect(text.stdout).toContain("Left out 3 symlink(s) pointing outside the files folder");
    const links = (await readdir(local(), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isSymbolicLink())
      .map((entry) => path.relative(local(), path.join(entry.parentPath, entry.name)));
    expect(links).toEqual(["ok-link"]);
    expect(await (await fetch(`${webUrl}/sites/default/files/ok-link`)).text()).toBe(
      await readFile(path.join(local(), "d1", "p1.jpg"), "utf8"),
    );
    // A link that reached the tree anyway (an older pull, a copy by hand) is not followed
    // by nginx to a file of another owner: the container's /etc/passwd stays unserved.
    await symlink("/etc/passwd", path.join(local(), "planted-passwd"));
    const planted = await fetch(`${webUrl}/sites/default/files/planted-passwd`);
    // Refused as a file (nginx hands the path to Drupal, which has no such page).
    expect(await planted.text()).not.toContain("root:x:0:0");
    // And the next pull removes it (production has no such file).
    expectOk(await project.cli(["files", "pull", "--json"]));
    const left = await readdir(local());
    expect(left).not.toContain("planted-passwd");
    expect(left).toContain("ok-link");
  });
});
