import { appendFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullConfigYaml, startProductionServer } from "../support/production-server.js";
import {
  type CliResult,
  copyExample,
  discardProject,
  expectOk,
  jsonField,
  resourcesOf,
  shellIn,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";
import { routedRequest, routerOf } from "./support/routed.js";

// The openmage preset on the real engine with examples/openmage-basic (which behaves as
// OpenMage does where a real shop broke: an undated local.xml shows the installer, a
// dated one runs setup scripts against whatever database is there): a fresh environment
// is an installable shop and `prodlike run install` installs it; then pages through
// Varnish -> nginx -> php-fpm, sessions in the real Redis, local.xml rendered by prodlike,
// media/ a named volume, and a cron job that outlives its one-minute interval: the next
// run is skipped, never started beside it.

let project: TestProject;
let webUrl: string;
let firstUp: CliResult;
const CRON_SLEEP_SECONDS = 75;

const shell = (service: string, script: string) => shellIn(project, service, script);
const tables = async () =>
  (await shell("db", 'mariadb -N "$MARIADB_DATABASE" -e "SHOW TABLES"')).stdout
    .trim()
    .split("\n")
    .filter((line) => line !== "");

beforeAll(async () => {
  project = await copyExample("it-om", "openmage-basic");
  // Every cron run outlives its interval (one minute).
  await mkdir(path.join(project.dir, "var"), { recursive: true });
  await writeFile(path.join(project.dir, "var", "cron-sleep"), String(CRON_SLEEP_SECONDS));
  firstUp = await project.cli(["up", "--json"]);
  expectOk(firstUp);
  webUrl = webUrlOf(firstUp);
}, 900_000);

afterAll(async () => {
  await discardProject(project);
});

describe("openmage preset (examples/openmage-basic)", { timeout: 300_000 }, () => {
  it("comes up on an empty database as an installable shop, and `run install` installs it", async () => {
    // Not a health failure: up says what to run.
    expect(jsonField<{ installed: boolean; command: string }>(firstUp, "install")).toEqual({
      installed: false,
      command: "prodlike run install",
    });
    // local.xml dates no install: the shop shows its installer, and no setup script ran
    // against the empty database (from a page or from cron).
    const xml = await shell("php-fpm", "cat app/etc/local.xml");
    expect(xml.stdout).toContain("<date><![CDATA[]]></date>");
    const front = await fetch(`${webUrl}/`, { redirect: "manual" });
    expect(front.status).toBe(302);
    expect(front.headers.get("location")).toContain("/index.php/install/");
    await front.text();
    expect(await tables()).toEqual([]);

    const install = await project.cli(["run", "install"]);
    expectOk(install);
    expect(install.stdout).toContain("OpenMage is installed");
    expect(install.stdout).toMatch(/password: \S{14}/);
    // The installer's "SUCCESS: <key>" would print the environment's crypt key.
    const key = /<key><!\[CDATA\[([^\]]*)\]\]><\/key>/.exec(xml.stdout)?.[1] ?? "none";
    expect(`${install.stdout}${install.stderr}`).not.toContain(key);
    // prodlike rendered local.xml again, dated, with its own settings (Redis sessions).
    const after = await shell("php-fpm", "cat app/etc/local.xml");
    expect(after.stdout).toContain("<date><![CDATA[Sat, 01 Jan 2000 00:00:00 +0000]]></date>");
    expect(after.stdout).toContain("<redis_session>");
    expect(await tables()).toEqual(
      expect.arrayContaining(["core_config_data", "core_resource", "admin_user"]),
    );
    const again = await project.cli(["up", "--json"]);
    expectOk(again);
    expect(jsonField<boolean>(again, "changed")).toBe(false);
    expect(jsonField<{ installed: boolean }>(again, "install").installed).toBe(true);
    // The installer refuses a shop that is installed, as OpenMage's does.
    const twice = await project.cli(["run", "install"]);
    expect(twice.exitCode).not.toBe(0);
    expect(twice.stdout).toContain("already installed");
  });

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

  it("mounts app/etc/local.xml read-only for cron and keeps media/ in a named volume", async () => {
    // Writable in php-fpm only, where OpenMage's installer runs.
    const write = await shell("cron", "echo x >> /var/www/html/app/etc/local.xml");
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/i);
    expectOk(await shell("php-fpm", "echo uploaded > /var/www/html/media/product.jpg"));
    // Not in the code tree: in the environment's media volume, which nginx serves too.
    await expect(readFile(path.join(project.dir, "media", "product.jpg"))).rejects.toThrow();
    const served = await fetch(`${webUrl}/media/product.jpg`);
    expect(served.status).toBe(200);
    await served.text();
    // The checkout's own media/ files (a module's logo in the repository), which the
    // volume hides in the containers, are served beside the uploads.
    await mkdir(path.join(project.dir, "media", "dhl"), { recursive: true });
    await writeFile(path.join(project.dir, "media", "dhl", "logo.gif"), "GIF89a");
    const own = await fetch(`${webUrl}/media/dhl/logo.gif`);
    expect(own.status).toBe(200);
    expect(await own.text()).toBe("GIF89a");
    expect((await resourcesOf(`${project.name}-local`)).volumes).toContain(
      `${project.name}-local_media`,
    );
    // exec in php-fpm starts where the code is (OpenMage has no cli service).
    expect((await project.cli(["exec", "php-fpm", "--", "pwd"])).stdout.trim()).toBe(
      "/var/www/html",
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
    // (Runs of the cron container before it, recreated when the shop was installed, are
    // not this one's.)
    const host = (await shell("cron", "hostname")).stdout.trim();
    const cronLog = (await readFile(path.join(project.dir, "var", "cron.log"), "utf8"))
      .split("\n")
      .filter((line) => line.endsWith(` host ${host}`));
    const starts = cronLog.filter((line) => line.includes(" start "));
    const ends = cronLog.filter((line) => line.includes(" end "));
    expect(starts.length - ends.length).toBe(1);
    // cron runs as root; each run drops to the developer, so var/ stays theirs.
    const info = await stat(path.join(project.dir, "var", "cron.log"));
    expect({ uid: info.uid, gid: info.gid }).toEqual({
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
    });
  });

  it("tells PHP the browser's host and port and the scheme the router forwards, never a client's own", async () => {
    const page = await fetch(`${webUrl}/`, { headers: { "X-Forwarded-For": "203.0.113.66" } });
    const body = await page.text();
    const port = new URL(webUrl).port;
    expect(body).toContain(`host: 127.0.0.1:${port}\n`);
    expect(body).toContain(`server port: ${port}\n`);
    expect(body).toContain("https: \n");
    expect(body).toContain("forwarded proto: http\n");
    expect(body).not.toContain("203.0.113.66");
    // A client on the published port cannot claim https: its headers are replaced.
    const claimed = await fetch(`${webUrl}/`, {
      headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Port": "8443" },
    });
    const claimedBody = await claimed.text();
    expect(claimedBody).toContain("https: \n");
    expect(claimedBody).toContain(`server port: ${port}\n`);
    // The local router's own listener is where the scheme it forwards is taken.
    const { ca } = await routerOf(project);
    const https = jsonField<Record<string, string>>(
      await project.cli(["status", "--json"]),
      "urls",
    ).https;
    if (!https) throw new Error("no https URL: is the router running?");
    const routed = await routedRequest(https, { ca });
    expect(routed.body).toContain("https: on\n");
    expect(routed.body).toContain(`server port: ${new URL(https).port || "443"}\n`);
  });

  it("points a pulled or imported store's base URLs at this environment", async () => {
    const dump = [
      // A shop's database is up to date with its code (its setup scripts ran there).
      "CREATE TABLE `core_resource` (`code` varchar(50) NOT NULL, `version` varchar(50), `data_version` varchar(50), PRIMARY KEY (`code`));",
      "INSERT INTO `core_resource` VALUES ('core_setup','1.6.0.2','1.6.0.2');",
      "CREATE TABLE `core_config_data` (`config_id` int NOT NULL AUTO_INCREMENT, `scope` varchar(8) NOT NULL DEFAULT 'default', `scope_id` int NOT NULL DEFAULT 0, `path` varchar(255) NOT NULL, `value` text, PRIMARY KEY (`config_id`));",
      "INSERT INTO `core_config_data` (`path`, `value`) VALUES ('web/unsecure/base_url','https://shop.example.com/'),('web/secure/base_url','https://shop.example.com/'),('web/unsecure/base_media_url','https://cdn.example.com/media/'),('web/secure/base_skin_url','https://cdn.example.com/skin/'),('web/cookie/cookie_domain','.example.com'),('system/smtp/enabled','ses+smtp'),('system/smtp/host','email-smtp.eu-west-1.amazonaws.com'),('system/smtp/username','production-user');",
      "",
    ].join("\n");
    const imported = await project.cli(["db", "import", "-", "--json"], { input: dump });
    expectOk(imported);
    const page = await fetch(`${webUrl}/`, { redirect: "manual" });
    expect(page.status, page.headers.get("location") ?? "").toBe(200);
    const urls = await shell(
      "db",
      `mariadb -N "$MARIADB_DATABASE" -e "SELECT path, IFNULL(value, 'NULL') FROM core_config_data ORDER BY path"`,
    );
    // Secure pages go to the local router's https name for this environment.
    const secureUrl = jsonField<Record<string, string>>(
      await project.cli(["status", "--json"]),
      "urls",
    ).https;
    expect(secureUrl).toMatch(/^https:\/\/local\.[a-z0-9-]+\.localhost(:\d+)?\/$/);
    expect(urls.stdout.trim().split("\n")).toEqual([
      // Production's mail transport now goes to the catcher, without its login.
      "system/smtp/enabled\tsmtp",
      "system/smtp/host\tmail",
      "system/smtp/username\tNULL",
      "web/cookie/cookie_domain\tNULL",
      // Production's CDN: OpenMage's own default, under this environment's base URL.
      "web/secure/base_skin_url\t{{secure_base_url}}skin/",
      `web/secure/base_url\t${secureUrl}`,
      "web/unsecure/base_media_url\t{{unsecure_base_url}}media/",
      `web/unsecure/base_url\t${webUrl}/`,
    ]);
  });

  it("serves an edited page through Varnish at once, saying what production would cache", async () => {
    const first = await fetch(`${webUrl}/`);
    expect(first.headers.get("x-prodlike-production-cache")).toMatch(
      /^(cache|pass \(Set-Cookie\))$/,
    );
    await first.text();
    await mkdir(path.join(project.dir, "skin"), { recursive: true });
    await writeFile(path.join(project.dir, "skin", "prodlike.css"), "body { color: teal; }\n");
    const style = await fetch(`${webUrl}/skin/prodlike.css`);
    expect(style.headers.get("x-prodlike-production-cache")).toBe("cache");
    await style.text();
    const index = path.join(project.dir, "index.php");
    const original = await readFile(index, "utf8");
    const marker = `edited-${process.pid}`;
    await writeFile(index, `${original}\necho "${marker}\\n";\n`);
    try {
      expect(await (await fetch(`${webUrl}/`)).text()).toContain(marker);
    } finally {
      await writeFile(index, original);
    }
    // And for a production-like cache: everything between the browser and the data, emptied.
    const purged = await project.cli(["cache", "purge", "--json"]);
    expectOk(purged);
    expect(purged.json?.refreshed).toEqual(
      expect.arrayContaining(["varnish cache banned", "php-fpm reloaded (APCu, opcache)"]),
    );
  });

  it("gives OpenMage a crypt key of its own, not the database password", async () => {
    const xml = await shell("php-fpm", "cat /var/www/html/app/etc/local.xml");
    const key = /<key><!\[CDATA\[([^\]]*)\]\]><\/key>/.exec(xml.stdout)?.[1];
    const password = /<password><!\[CDATA\[([^\]]*)\]\]><\/password>/.exec(xml.stdout)?.[1];
    expect(key?.length).toBeGreaterThan(8);
    expect(key).not.toBe(password);
  });

  it("files pull fills the media volume from production, then moves only what changed", async () => {
    const production = await startProductionServer("om-media");
    try {
      const onProduction = (script: string) =>
        execa("docker", ["exec", production.name, "sh", "-c", script]);
      await onProduction(
        [
          "set -e",
          "mkdir -p /srv/media/catalog/product /srv/media/catalog/product/cache /srv/media/wysiwyg",
          "for i in $(seq 1 40); do echo product-$i > /srv/media/catalog/product/p$i.jpg; done",
          "echo banner > /srv/media/wysiwyg/banner.png",
          "echo resized > /srv/media/catalog/product/cache/p1.jpg",
          "chown -R deploy /srv/media",
        ].join("\n"),
      );
      await appendFile(
        path.join(project.dir, "prodlike.yaml"),
        `${pullConfigYaml(production)}files:\n  from: prod\n  remote: /srv/media\n`,
      );
      const first = await project.cli(["files", "pull", "--json"]);
      expectOk(first);
      expect(first.json).toMatchObject({
        transferred: 41,
        volume: { service: "php-fpm", path: "/var/www/html/media", copied: 41 },
      });
      // In the volume, served by the site, the developer's; caches stay production's own.
      const served = await fetch(`${webUrl}/media/catalog/product/p7.jpg`);
      expect(served.status).toBe(200);
      expect(await served.text()).toBe("product-7\n");
      const owner = await shell("php-fpm", "stat -c %u /var/www/html/media/wysiwyg/banner.png");
      expect(owner.stdout.trim()).toBe(String(process.getuid?.() ?? 0));
      const cache = await shell(
        "php-fpm",
        "test -e /var/www/html/media/catalog/product/cache/p1.jpg",
      );
      expect(cache.exitCode).not.toBe(0);

      await onProduction(
        "echo changed > /srv/media/catalog/product/p2.jpg; rm /srv/media/catalog/product/p3.jpg",
      );
      const again = await project.cli(["files", "pull", "--json"]);
      expectOk(again);
      expect(again.json).toMatchObject({ transferred: 1, volume: { copied: 1 } });
      expect(await (await fetch(`${webUrl}/media/catalog/product/p2.jpg`)).text()).toBe(
        "changed\n",
      );
      const gone = await shell("php-fpm", "test -e /var/www/html/media/catalog/product/p3.jpg");
      expect(gone.exitCode).not.toBe(0);
      // What an earlier test uploaded into the volume is not production's: it stays.
      const uploaded = await shell("php-fpm", "cat /var/www/html/media/product.jpg");
      expect(uploaded.stdout.trim()).toBe("uploaded");
    } finally {
      await production.stop();
    }
  });

  it("destroy leaves no empty mountpoint Docker made in the code tree (app/etc/local.xml)", async () => {
    const localXml = path.join(project.dir, "app", "etc", "local.xml");
    expect((await stat(localXml)).size).toBe(0);
    expectOk(await project.cli(["destroy", "--keep-images"]));
    await expect(stat(localXml)).rejects.toThrow();
    // Nor .prodlike/ (with the .gitignore prodlike put there): the last environment went.
    await expect(stat(path.join(project.dir, ".prodlike"))).rejects.toThrow();
    // Nor files pull's copy of the media volume.
    await expect(stat(path.join(project.home, "files", `${project.name}-local`))).rejects.toThrow();
  });
});
