import { chmod, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  describeFailure,
  discardProject,
  environmentNetwork,
  expectOk,
  jsonField,
  shellIn,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// What a real Drupal site met in its first hour, on the real engine, with the example
// behaving as Drupal does in those places: a checkout only its owner can read, files the
// app and the cli write, redirects built from the Host header, an installer that rewrites
// settings.php, APCu caches across a database change, a PHP fatal error on the front page.

let project: TestProject;
let webUrl: string;
let firstUp: Awaited<ReturnType<TestProject["cli"]>>;
const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: "manual", ...init });
  return {
    status: response.status,
    location: response.headers.get("location"),
    body: await response.text(),
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.includes(`${path.sep}.prodlike${path.sep}`));
}

beforeAll(async () => {
  project = await copyExample("it-site");
  // As umask 077 leaves a checkout: the folder and its files readable by their owner only.
  await chmod(project.dir, 0o700);
  await chmod(path.join(project.dir, "web", "index.php"), 0o600);
  firstUp = await project.cli(["up", "--json"]);
  expectOk(firstUp);
  webUrl = webUrlOf(firstUp);
}, 600_000);

afterAll(async () => {
  // Drupal's hardening would keep the copy from being removed.
  await chmod(path.join(project.dir, "web", "sites", "default"), 0o755).catch(() => undefined);
  await discardProject(project);
});

describe("a real site, a real developer", { timeout: 300_000 }, () => {
  it("serves a 0700 checkout with 0600 files, with no false warning on the first up", async () => {
    expect((await get(`${webUrl}/`)).status).toBe(200);
    const warnings = jsonField<string[]>(firstUp, "warnings");
    expect(warnings.filter((warning) => warning.includes("does not load"))).toEqual([]);
  });

  it("keeps the published port in redirects and in the login form's 303", async () => {
    const user = await get(`${webUrl}/user`);
    expect(user.status).toBe(302);
    expect(user.location).toBe(`${webUrl}/user/login`);
    const login = await get(`${webUrl}/user/login`, {
      method: "POST",
      body: new URLSearchParams({ name: "admin" }),
    });
    expect(login.status).toBe(303);
    expect(login.location).toBe(`${webUrl}/user/1?check_logged_in=1`);
  });

  it("lets the app write its public files folder, the files belonging to the developer", async () => {
    const written = await get(`${webUrl}/files/write`);
    expect(written.status, written.body).toBe(200);
    const url = written.body.trim();
    expect(url.startsWith(`${webUrl}/sites/default/files/probe-`)).toBe(true);
    expect((await get(url)).body).toBe("written by php-fpm\n");
    const file = path.join(project.dir, "web", new URL(url).pathname);
    const info = await stat(file);
    expect({ uid: info.uid, gid: info.gid }).toEqual(me);
  });

  it("runs the cli (drush, composer, ssh) as the developer, with a name and the site's URL", async () => {
    const wrote = await shellIn(
      project,
      "cli",
      "mkdir -p config/sync && echo 'name: site' > config/sync/system.site.yml && id -un && printenv DRUSH_OPTIONS_URI && ssh -o BatchMode=yes -o ConnectTimeout=1 prodlike-no-such-host true; true",
    );
    expectOk(wrote);
    const [name, uri] = wrote.stdout.trim().split("\n");
    expect(name).not.toBe("root");
    expect(uri).toBe(webUrl);
    expect(wrote.stderr).not.toContain("No user exists");
    const info = await stat(path.join(project.dir, "config", "sync", "system.site.yml"));
    expect({ uid: info.uid, gid: info.gid }).toEqual(me);
  });

  it("has the folders ready, so the installer never writes the password into settings.php", async () => {
    const password = (await shellIn(project, "php-fpm", "printenv DB_PASSWORD")).stdout.trim();
    expect(password.length).toBeGreaterThan(8);
    expect((await get(`${webUrl}/install`)).body).toBe("installed\n");
    for (const file of await filesUnder(project.dir)) {
      expect((await readFile(file)).includes(password), file).toBe(false);
    }
    const sitesDefault = path.join(project.dir, "web", "sites", "default");
    expect((await stat(sitesDefault)).mode & 0o777).toBe(0o555);
    // An unchanged up writes nothing, read-only folder or not.
    expectOk(await project.cli(["up", "--json"]));
  });

  it("says how to fix a read-only sites/default when it must write there (exit 2, not INTERNAL)", async () => {
    const sitesDefault = path.join(project.dir, "web", "sites", "default");
    const generated = path.join(sitesDefault, "settings.prodlike.php");
    await chmod(sitesDefault, 0o755);
    await rm(generated);
    await chmod(sitesDefault, 0o555);
    const refused = await project.cli(["up", "--json"]);
    if (me.uid !== 0) {
      expect(refused.exitCode, describeFailure(refused)).toBe(2);
      expect(refused.json).toMatchObject({ error: { code: "CODE_NOT_WRITABLE" } });
      expect(JSON.stringify(refused.json)).toContain("chmod u+w web/sites/default");
    }
    await chmod(sitesDefault, 0o755);
    expectOk(await project.cli(["up", "--json"]));
    expect((await stat(generated)).isFile()).toBe(true);
  });

  it("serves the new data at once after an import: php-fpm reloaded, APCu emptied", async () => {
    const greeting = async () =>
      /<span id="greeting">([^<]*)<\/span>/.exec((await get(`${webUrl}/`)).body)?.[1];
    const dump = (message: string) =>
      [
        "CREATE TABLE `greeting` (`id` int NOT NULL, `message` varchar(255) NOT NULL, PRIMARY KEY (`id`));",
        `INSERT INTO \`greeting\` VALUES (1,'${message}');`,
        "",
      ].join("\n");
    expectOk(await project.cli(["db", "import", "-"], { input: dump("before") }));
    expect(await greeting()).toBe("before"); // now cached in APCu
    const imported = await project.cli(["db", "import", "-", "--json"], { input: dump("after") });
    expectOk(imported);
    expect(jsonField<string[]>(imported, "refreshed").join()).toContain("php-fpm reloaded");
    expect(await greeting()).toBe("after");
  });

  it("calls a PHP fatal error on the front page unhealthy, also on an up that finds nothing to change", async () => {
    const index = path.join(project.dir, "web", "index.php");
    const original = await readFile(index, "utf8");
    await writeFile(index, original.replace("<?php", "<?php\nprodlike_no_such_function();\n"));
    try {
      const broken = await project.cli(["up", "--json", "--health-timeout", "3"]);
      expect(broken.exitCode, describeFailure(broken)).toBe(1);
      expect(broken.json).toMatchObject({ error: { code: "HEALTH_TIMEOUT" } });
      expect(JSON.stringify(broken.json)).toContain("prodlike_no_such_function");
    } finally {
      await writeFile(index, original);
    }
    expectOk(await project.cli(["up", "--json"]));
  });

  it("switches Xdebug on and off without a rebuild: php -m, and a step-debug connection to the IDE", async () => {
    const phpModules = async (service: string) =>
      (await shellIn(project, service, "php -m")).stdout.split("\n").map((line) => line.trim());
    const before = await project.cli(["xdebug", "status", "--json"]);
    expectOk(before);
    expect(jsonField<{ enabled: boolean }[]>(before, "services").every((s) => !s.enabled)).toBe(
      true,
    );
    const started = (
      await execa("docker", [
        "inspect",
        "-f",
        "{{.State.StartedAt}}",
        `${project.name}-local_php-fpm_1`,
      ])
    ).stdout;

    // The IDE: a listener on this machine, on the environment network's gateway.
    const network = await environmentNetwork(`${project.name}-local`);
    const gateway = (
      await execa("docker", [
        "network",
        "inspect",
        "-f",
        "{{(index .IPAM.Config 0).Gateway}}",
        network,
      ])
    ).stdout.trim();
    let received = "";
    const ide = createServer((socket) => {
      let detached = false;
      socket.on("error", () => undefined);
      socket.on("data", (chunk) => {
        received += chunk.toString("utf8");
        // The init packet is enough: end the session (once) so the page finishes.
        if (received.includes("<init") && !detached) {
          detached = true;
          socket.end("detach -i 1\0");
        }
      });
    });
    await new Promise<void>((resolve) => ide.listen(0, gateway, resolve));
    const port = (ide.address() as AddressInfo).port;
    try {
      const on = await project.cli(["xdebug", "on", "--port", String(port), "--json"]);
      expectOk(on);
      expect(jsonField<{ host: string; port: number }>(on, "settings")).toEqual({
        host: gateway,
        port,
        everyRequest: false,
      });
      expect(await phpModules("php-fpm")).toContain("Xdebug");
      expect(await phpModules("cli")).toContain("Xdebug");
      const page = await fetch(`${webUrl}/?XDEBUG_TRIGGER=1`);
      expect(page.status).toBe(200);
      expect(received).toContain('xmlns="urn:debugger_protocol_v1"');
      expect(received).toContain("<init");
    } finally {
      ide.close();
    }
    const off = await project.cli(["xdebug", "off", "--json"]);
    expectOk(off);
    expect(await phpModules("php-fpm")).not.toContain("Xdebug");
    expect((await fetch(`${webUrl}/`)).status).toBe(200);
    // The same container all along: switched, not re-created.
    expect(
      (
        await execa("docker", [
          "inspect",
          "-f",
          "{{.State.StartedAt}}",
          `${project.name}-local_php-fpm_1`,
        ])
      ).stdout,
    ).toBe(started);
  });

  it("runs the team's own php-fpm image when prodlike.yaml names it, with the preset's config", async () => {
    const container = `${project.name}-local_php-fpm_1`;
    const built = (await execa("docker", ["inspect", "-f", "{{.Config.Image}}", container])).stdout;
    // Production's image, as this machine has it (here: the preset's build under the
    // team's name).
    const production = `${project.name}/php-fpm:production`;
    await execa("docker", ["tag", built, production]);
    const config = path.join(project.dir, "prodlike.yaml");
    const original = await readFile(config, "utf8");
    try {
      await writeFile(config, `${original}services:\n  php-fpm:\n    image: ${production}\n`);
      const up = await project.cli(["up", "--json"]);
      expectOk(up);
      expect(jsonField<boolean>(up, "changed")).toBe(true);
      expect(
        (await execa("docker", ["inspect", "-f", "{{.Config.Image}}", container])).stdout,
      ).toBe(production);
      expect((await get(`${webUrl}/`)).status).toBe(200);
    } finally {
      await writeFile(config, original);
      expectOk(await project.cli(["up", "--json"]));
      await execa("docker", ["rmi", production]).catch(() => undefined);
    }
  });
});
