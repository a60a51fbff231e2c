import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import {
  copyExample,
  expectOk,
  httpGet,
  jsonField,
  SQL_CLIENT,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";
import { clusterTools } from "./support/production-layout.js";
import { routedRequest, routerOf } from "./support/routed.js";

// The Drupal preset on a real local cluster, for each cluster tool installed here: the
// same CLI, the same example project, `--backend kind` or `--backend minikube`. Neither
// tool can run on machines without its binary and node image; there the suite prints
// why it is skipped (a skip is never a pass).

const tools = await clusterTools();

for (const backend of ["kind", "minikube"] as const) {
  if (!tools[backend]) {
    process.stdout.write(`SKIPPED ${backend} integration tests: \`${backend}\` is not on PATH\n`);
  }

  describe.skipIf(!tools[backend])(`prodlike on ${backend} with the Drupal preset`, () => {
    let project: TestProject;
    let webUrl = "";
    const greeting = `hello-${randomBytes(4).toString("hex")}`;
    const cluster = () => `prodlike-${project.name}-local`;

    afterAll(async () => {
      if (!project) return;
      await project.cli(["destroy", "--backend", backend]).catch(() => undefined);
      await project.cleanup();
    });

    it("up creates the cluster and serves the site on 127.0.0.1", {
      timeout: 900_000,
    }, async () => {
      project = await copyExample(`it-${backend}`);
      webUrl = await upForWebUrl(project, ["--backend", backend]);
      expect(webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const second = await project.cli(["up", "--json"]);
      expectOk(second);
      expect(second.json).toMatchObject({ changed: false });
    });

    it("serves a value read from MariaDB, written through exec stdin", {
      timeout: 120_000,
    }, async () => {
      const insert = await project.cli(["exec", "db", "--", ...SQL_CLIENT], {
        input: `REPLACE INTO greeting VALUES (1, '${greeting}');\n`,
      });
      expectOk(insert);
      const page = await httpGet(`${webUrl}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain(`<span id="greeting">${greeting}</span>`);
    });

    it("answers on its https name through the local router, verified with the router's CA", {
      timeout: 120_000,
    }, async () => {
      const status = await project.cli(["status", "--json"]);
      expectOk(status);
      const https = jsonField<Record<string, string>>(status, "urls").https ?? "";
      expect(https).toMatch(/^https:\/\/local\.[a-z0-9-]+\.localhost(:\d+)?\/$/);
      const { ca } = await routerOf(project);
      const page = await routedRequest(https, { ca });
      expect(page.status).toBe(200);
      expect(page.body).toContain(`<span id="greeting">${greeting}</span>`);
    });

    it("serves an edit to the live code on the next request", { timeout: 60_000 }, async () => {
      const marker = `edit-${randomBytes(3).toString("hex")}`;
      await writeFile(path.join(project.dir, "web", "edit.php"), `<?php echo '${marker}';\n`);
      const page = await httpGet(`${webUrl}/edit.php`);
      expect(page.body).toBe(marker);
    });

    it("down keeps the database; up brings it back", { timeout: 600_000 }, async () => {
      expectOk(await project.cli(["down"]));
      expect((await project.cli(["status", "--json"])).json).toMatchObject({
        environment: { state: "stopped" },
      });
      expectOk(await project.cli(["up"]));
      const page = await httpGet(`${webUrl}/`);
      expect(page.body).toContain(greeting);
    });

    it("rolls a release that does not roll out back, and rolls back by hand, on the same claim", {
      timeout: 900_000,
    }, async () => {
      const config = path.join(project.dir, "prodlike.yaml");
      const original = await readFile(config, "utf8");
      const mark = async () =>
        (
          await project.cli([
            "exec",
            "php-fpm",
            "--",
            "sh",
            "-c",
            "printenv RELEASE_MARK || echo none",
          ])
        ).stdout;
      try {
        // An image without php-fpm: the new pods never become ready.
        await writeFile(
          config,
          `${original}services:\n  php-fpm:\n    image: debian:trixie-slim\n`,
        );
        const failed = await project.cli(["up", "--json", "--health-timeout", "120"]);
        expect(failed.exitCode, failed.stdout).toBe(6);
        expect(jsonField<{ code: string }>(failed, "error").code).toBe("ROLLED_BACK");
        expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);

        await writeFile(config, `${original}env:\n  RELEASE_MARK: two\n`);
        expectOk(await project.cli(["up", "--json"]));
        expect(await mark()).toBe("two");
        expectOk(await project.cli(["rollback", "--json"]));
        expect(await mark()).toBe("none");
        expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);
      } finally {
        await writeFile(config, original);
      }
    });

    it("destroy deletes the cluster and leaves nothing of it", { timeout: 300_000 }, async () => {
      expectOk(await project.cli(["destroy"]));
      const clusters =
        backend === "kind"
          ? (await execa("kind", ["get", "clusters"])).stdout
          : (await execa("minikube", ["profile", "list", "--output", "json"], { reject: false }))
              .stdout;
      expect(clusters).not.toContain(cluster());
      expect((await project.cli(["status"])).exitCode).toBe(4);
    });
  });
}
