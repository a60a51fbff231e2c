import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  resourcesOf,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// The openmage preset on the real engine with examples/openmage-basic: pages through
// Varnish -> nginx -> php-fpm, sessions in the real Redis, local.xml mounted read-only,
// media/ a named volume, and a cron job that outlives its one-minute interval: the next
// run is skipped, never started beside it.

let project: TestProject;
let webUrl: string;
const CRON_SLEEP_SECONDS = 75;

const shell = (service: string, script: string) => shellIn(project, service, script);

beforeAll(async () => {
  project = await copyExample("it-om", "openmage-basic");
  // Every cron run outlives its interval (one minute).
  await mkdir(path.join(project.dir, "var"), { recursive: true });
  await writeFile(path.join(project.dir, "var", "cron-sleep"), String(CRON_SLEEP_SECONDS));
  webUrl = await upForWebUrl(project);
}, 900_000);

afterAll(async () => {
  await discardProject(project);
});

describe("openmage preset (examples/openmage-basic)", { timeout: 300_000 }, () => {
  it("serves pages through Varnish with a session kept in Redis", async () => {
    const first = await fetch(`${webUrl}/`);
    expect(first.status).toBe(200);
    expect(first.headers.get("via")).toContain("varnish");
    const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^PHPSESSID=/);
    const firstBody = await first.text();
    expect(firstBody).toContain("database: openmage");
    expect(firstBody).toContain("session handler: redis");
    expect(firstBody).toContain("visits: 1");
    // The session cookie makes Varnish pass the request; the count comes from Redis.
    const second = await fetch(`${webUrl}/`, { headers: { cookie } });
    expect(await second.text()).toContain("visits: 2");
    const sid = cookie.replace("PHPSESSID=", "");
    const stored = await shell("redis", `redis-cli -n 2 EXISTS PHPREDIS_SESSION:${sid}`);
    expectOk(stored);
    expect(stored.stdout.trim()).toBe("1");
  });

  it("mounts app/etc/local.xml read-only and keeps media/ in a named volume", async () => {
    const write = await shell("php-fpm", "echo x >> /var/www/html/app/etc/local.xml");
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/i);
    expectOk(await shell("php-fpm", "echo uploaded > /var/www/html/media/product.jpg"));
    // Not in the code tree: in the environment's media volume, which nginx serves too.
    await expect(readFile(path.join(project.dir, "media", "product.jpg"))).rejects.toThrow();
    const served = await fetch(`${webUrl}/media/product.jpg`);
    expect(served.status).toBe(200);
    expect((await resourcesOf(`${project.name}-local`)).volumes).toContain(
      `${project.name}-local_media`,
    );
  });

  it("never overlaps cron runs: a run that outlives its interval makes the next one skip", async () => {
    const deadline = Date.now() + 200_000;
    let logs = "";
    while (Date.now() < deadline) {
      logs = (await project.cli(["logs", "cron", "--tail", "50"])).stdout;
      if (logs.includes("skipped: the previous run is still going")) break;
      await sleep(2000);
    }
    expect(logs).toContain("skipped: the previous run is still going");
    // One run started and has not ended: the skipped minute started nothing beside it.
    const cronLog = await readFile(path.join(project.dir, "var", "cron.log"), "utf8");
    const starts = cronLog.split("\n").filter((line) => line.includes(" start "));
    const ends = cronLog.split("\n").filter((line) => line.includes(" end "));
    expect(starts.length - ends.length).toBe(1);
  });
});
