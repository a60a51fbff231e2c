import { chmod, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  httpGet,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// A root developer (a CI job, a container, an onboarding script run with sudo): the
// project in a 0700 folder of root's, as `mktemp -d` makes it. nginx's and php-fpm's
// workers must read it as root; with Debian's `user www-data` every page was 404 while
// `up` called the environment healthy. Root only: the developer's run skips this file,
// CI's root step runs it.

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const reason = isRoot ? "" : "not running as root";
if (reason) process.stdout.write(`SKIPPED root developer integration test: ${reason}\n`);

let project: TestProject;
let webUrl = "";

beforeAll(async () => {
  if (reason) return;
  project = await copyExample("it-root");
  // As umask 077 and mktemp -d leave it: only root can read the checkout.
  await chmod(path.dirname(project.dir), 0o700);
  await chmod(project.dir, 0o700);
  for (const entry of await readdir(project.dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    await chmod(file, entry.isDirectory() ? 0o700 : 0o600);
  }
  webUrl = await upForWebUrl(project);
}, 900_000);

afterAll(async () => {
  await discardProject(project);
});

describe.skipIf(reason !== "")("a root developer", { timeout: 300_000 }, () => {
  it("gets its pages: nginx and php-fpm read a 0700 checkout as root", async () => {
    const page = await httpGet(`${webUrl}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<span id="greeting">');
    // Every process's real uid in the nginx container (the slim image has no ps).
    const workers = await shellIn(project, "web", "grep -h '^Uid:' /proc/[0-9]*/status");
    expectOk(workers);
    const uids = workers.stdout
      .trim()
      .split("\n")
      .map((line) => line.split(/\s+/)[1]);
    expect(new Set(uids)).toEqual(new Set(["0"]));
  });

  it("writes the files the application makes as root, in the checkout", async () => {
    const written = await httpGet(`${webUrl}/files/write`);
    expect(written.status, written.body).toBe(200);
    const name = written.body.trim().split("/").pop() ?? "";
    const info = await stat(path.join(project.dir, "web", "sites", "default", "files", name));
    expect(info.uid).toBe(0);
  });
});
