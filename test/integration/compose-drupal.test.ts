import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  docker,
  envFilter,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  SQL_CLIENT,
  shellIn,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// The Drupal preset on the real engine, end to end: real images built FROM
// debian:trixie-slim, real MariaDB, nginx and php-fpm, through the real CLI.

let project: TestProject;
let webUrl: string;
const greeting = `hello-${randomBytes(4).toString("hex")}`;

async function containerIds(envId: string): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: envFilter(envId) });
  return containers.map((container) => container.Id).sort();
}

beforeAll(async () => {
  project = await copyExample("it-drupal");
});

afterAll(async () => {
  for (const name of ["local", "second", "race"]) {
    await project.cli(["destroy", "--name", name]).catch(() => undefined);
  }
  await project.cleanup();
});

describe("prodlike on docker compose with the Drupal preset", () => {
  it("up brings the stack up and --json gives urls.web", async () => {
    const result = await project.cli(["up", "--json"]);
    expectOk(result);
    expect(result.json).toMatchObject({ ok: true, command: "up", changed: true });
    webUrl = webUrlOf(result);
    expect(webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const environment = jsonField<{ state: string; services: { name: string }[] }>(
      result,
      "environment",
    );
    expect(environment.state).toBe("running");
    expect(environment.services.map((service) => service.name)).toEqual([
      "cli",
      "db",
      "mail",
      "php-fpm",
      "web",
    ]);
    // No secret in the JSON document.
    expect(result.stdout).not.toMatch(/DB_PASSWORD|MARIADB_PASSWORD/);
  });

  it("serves a page php-fpm renders with a value read from MariaDB (written through exec stdin)", async () => {
    const insert = await project.cli(["exec", "db", "--", ...SQL_CLIENT], {
      input: `REPLACE INTO greeting VALUES (1, '${greeting}');\n`,
    });
    expectOk(insert);
    const page = await httpGet(`${webUrl}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<span id="greeting">${greeting}</span>`);
    expect(page.body).toContain("with PHP 8.4");
  });

  it("catches the mail PHP sends in the environment's catcher, which delivers it to nobody", async () => {
    const status = await project.cli(["status", "--json"]);
    expectOk(status);
    const mailUrl = jsonField<Record<string, string>>(status, "urls").mail;
    expect(mailUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sent = await shellIn(
      project,
      "cli",
      `php -r 'exit(mail("customer@example.com", "Order 42 confirmed", "Thank you", "From: shop@example.com") ? 0 : 1);'`,
    );
    expectOk(sent);
    const listed = (await (await fetch(`${mailUrl}/api/v1/messages`)).json()) as {
      messages: { ID: string; Subject: string; To: { Address: string }[] }[];
    };
    const order = listed.messages.find((message) => message.Subject === "Order 42 confirmed");
    expect(order?.To.map((to) => to.Address)).toEqual(["customer@example.com"]);
    const whole = (await (await fetch(`${mailUrl}/api/v1/message/${order?.ID}`)).json()) as {
      Text: string;
    };
    expect(whole.Text.trim()).toBe("Thank you");
  });

  it("the cli container reaches the database through the injected environment", async () => {
    const result = await shellIn(
      project,
      "cli",
      'mariadb -h"$DB_HOST" -u"$DB_USER" -p"$DB_PASSWORD" "$DB_NAME" -N -e "SELECT message FROM greeting"',
    );
    expectOk(result);
    expect(result.stdout.trim()).toBe(greeting);
  });

  it("a second up on a healthy environment changes nothing", async () => {
    const before = await containerIds(`${project.name}-local`);
    const result = await project.cli(["up", "--json"]);
    expectOk(result);
    expect(result.json?.changed).toBe(false);
    expect(await containerIds(`${project.name}-local`)).toEqual(before);
  });

  it("an edit to a PHP file is served on the next request", async () => {
    const file = path.join(project.dir, "web", "live.php");
    for (const version of ["one", "two", "three", "four", "five"]) {
      await writeFile(file, `<?php echo 'version-${version}';\n`);
      const page = await httpGet(`${webUrl}/live.php`);
      expect(page.body).toBe(`version-${version}`);
    }
  });

  it("nginx denies private and hidden files and never answers 502 for a plain page", async () => {
    expect((await httpGet(`${webUrl}/sites/default/settings.php`)).status).toBe(403);
    expect((await httpGet(`${webUrl}/.git/config`)).status).toBe(403);
    expect((await httpGet(`${webUrl}/vendor/autoload.php`)).status).toBe(404);
    const pages = await Promise.all(Array.from({ length: 20 }, () => httpGet(`${webUrl}/`)));
    expect(pages.map((page) => page.status)).toEqual(Array(20).fill(200));
  });

  it("exec passes the exit code through and streams stdin", async () => {
    expect((await shellIn(project, "cli", "exit 7")).exitCode).toBe(7);
    const echoed = await project.cli(["exec", "cli", "--", "cat"], {
      input: "streamed through stdin\n",
    });
    expect(echoed.stdout).toBe("streamed through stdin");
    const unknown = await project.cli(["exec", "solr", "--", "true"]);
    expect(unknown.exitCode).toBe(4);
    expect(unknown.stderr).toContain("SERVICE_NOT_FOUND");
  });

  it("logs shows a service's output, and shell reads commands from a pipe", async () => {
    const logs = await project.cli(["logs", "db", "--tail", "50"]);
    expectOk(logs);
    expect(logs.stdout).toMatch(/mariadbd: ready for connections|ready for connections/);
    const shell = await project.cli(["shell"], { input: "echo from-shell-$((6 * 7))\n" });
    expectOk(shell);
    expect(shell.stdout).toContain("from-shell-42");
  });

  it("drush without vendor/bin/drush in the project exits 3 with a hint", async () => {
    const result = await project.cli(["drush", "--", "status"]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("vendor/bin/drush");
    expect(result.stderr).toContain("composer require drush/drush");
  });

  it("publishes every port on 127.0.0.1 only", async () => {
    const containers = await docker.listContainers({ filters: envFilter(`${project.name}-local`) });
    const published = containers.flatMap((container) =>
      container.Ports.filter((port) => port.PublicPort),
    );
    expect(published.length).toBe(3);
    for (const port of published) expect(port.IP).toBe("127.0.0.1");
    const { stdout } = await execa("ss", ["-Hltn"]);
    for (const port of published) {
      const wildcard = stdout
        .split("\n")
        .filter((line) =>
          new RegExp(`(0\\.0\\.0\\.0|\\[::\\]|\\*):${port.PublicPort}\\s`).test(line),
        );
      expect(wildcard, `port ${port.PublicPort} on a wildcard address`).toEqual([]);
    }
  });

  it("status --json and ls --json find the environment by label", async () => {
    const status = await project.cli(["status", "--json"]);
    expectOk(status);
    expect(webUrlOf(status)).toBe(webUrl);
    const list = await project.cli(["ls", "--json"]);
    expectOk(list);
    const ids = jsonField<{ id: string }[]>(list, "environments").map(
      (environment) => environment.id,
    );
    expect(ids).toContain(`${project.name}-local`);
  });

  it("down keeps the data and up brings it back on the same URL", async () => {
    const down = await project.cli(["down", "--json"]);
    expectOk(down);
    expect(jsonField<{ state: string }>(down, "environment").state).toBe("stopped");
    const up = await project.cli(["up", "--json"]);
    expectOk(up);
    expect(webUrlOf(up)).toBe(webUrl);
    expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);
  });

  it("a second environment of the project runs side by side, isolated, on other ports", async () => {
    const second = await project.cli(["up", "--name", "second", "--json"]);
    expectOk(second);
    const secondUrl = webUrlOf(second);
    expect(secondUrl).not.toBe(webUrl);
    const [first, other] = await Promise.all([httpGet(`${webUrl}/`), httpGet(`${secondUrl}/`)]);
    expect(first.body).toContain(greeting);
    expect(other.status).toBe(200);
    expect(other.body).toContain("(none yet)");
  });

  it("two up runs at once on one environment never duplicate containers", async () => {
    const [a, b] = await Promise.all([
      project.cli(["up", "--name", "race", "--json"]),
      project.cli(["up", "--name", "race", "--json"]),
    ]);
    expectOk(a);
    expectOk(b);
    expect([a.json?.changed, b.json?.changed].sort()).toEqual([false, true]);
    expect(await containerIds(`${project.name}-race`)).toHaveLength(5);
  });

  it("status and destroy of an environment that does not exist exit 4", async () => {
    expect((await project.cli(["status", "--name", "nope"])).exitCode).toBe(4);
    const destroyed = await project.cli(["destroy", "--name", "nope", "--json"]);
    expect(destroyed.exitCode).toBe(4);
    expect(destroyed.json).toMatchObject({ ok: false, error: { code: "ENV_NOT_FOUND" } });
  });

  it("destroy leaves no container, volume or network of the environment, and no image only it used", async () => {
    for (const name of ["race", "second", "local"]) {
      const envId = `${project.name}-${name}`;
      const before = await resourcesOf(envId);
      expect(before.containers).toHaveLength(5);
      // Other test files run the same preset images at the same time: an image another
      // environment used while destroy ran is rightly kept, even if that environment is
      // gone by the time this test looks. Watched all along the destroy.
      const usedByOthers = new Set<string>();
      let destroying = true;
      const watch = (async () => {
        while (destroying) {
          for (const id of await imagesOfOtherEnvironments(envId)) usedByOthers.add(id);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const result = await project.cli(["destroy", "--name", name, "--json"]).finally(() => {
        destroying = false;
      });
      await watch;
      expectOk(result);
      const after = await resourcesOf(envId);
      expect(after.containers).toEqual([]);
      expect(after.volumes).toEqual([]);
      expect(after.networks).toEqual([]);
      expect(after.images).toEqual([]);
      // The images it ran: gone, unless another environment's container still uses them.
      const inUse = new Set([
        ...usedByOthers,
        ...(await docker.listContainers({ all: true })).map((container) => container.ImageID),
      ]);
      for (const imageId of new Set(before.imageIdsInUse)) {
        const image = await docker
          .getImage(imageId)
          .inspect()
          .catch(() => undefined);
        expect(
          image !== undefined && !inUse.has(imageId),
          `image ${imageId} (${image?.RepoTags?.join(", ")}) left behind by ${name}'s destroy: ${result.stdout}`,
        ).toBe(false);
      }
    }
  });
});

// Another environment's images: those its containers run, and those its `up` has claimed
// before creating them (the claims every user of the engine shares, labelled volumes):
// destroy rightly keeps both.
async function imagesOfOtherEnvironments(envId: string): Promise<Set<string>> {
  const containers = await docker.listContainers({ all: true });
  const ids = new Set(
    containers
      .filter((container) => container.Labels["dev.prodlike.env"] !== envId)
      .map((container) => container.ImageID),
  );
  const claims =
    (await docker.listVolumes({ filters: { label: ["dev.prodlike.claim=images"] } })).Volumes ?? [];
  for (const claim of claims) {
    if (claim.Labels?.["dev.prodlike.claim.env"] === envId) continue;
    for (const tag of (claim.Labels?.["dev.prodlike.claim.items"] ?? "").split(",")) {
      if (!tag) continue;
      const image = await docker
        .getImage(tag)
        .inspect()
        .catch(() => undefined);
      if (image) ids.add(image.Id);
    }
  }
  return ids;
}
