import path from "node:path";
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { copyExample, expectOk, httpGet, jsonField, type TestProject } from "./support/harness.js";
import { clusterTools, mirrorRoundtripLayout } from "./support/production-layout.js";

// Production's layout on a real local cluster: the round-trip manifests (nginx + php-fpm
// in one pod from ConfigMaps, MariaDB as a StatefulSet, a Secret) mirrored and applied
// with `up --mirror --backend kind|minikube`, images mapped to the preset's local builds
// and loaded into the node. Runs for each cluster tool installed here; elsewhere it
// prints why it is skipped (a skip is never a pass).

const tools = await clusterTools();

for (const backend of ["kind", "minikube"] as const) {
  if (!tools[backend]) {
    process.stdout.write(`SKIPPED ${backend} mirror tests: \`${backend}\` is not on PATH\n`);
  }

  describe.skipIf(!tools[backend])(`up --mirror on ${backend}`, () => {
    let project: TestProject;
    let webUrl = "";

    afterAll(async () => {
      if (!project) return;
      await project.cli(["destroy", "--backend", backend, "--keep-images"]).catch(() => undefined);
      await project.cli(["destroy", "--backend", "compose"]).catch(() => undefined);
      await project.cleanup();
    });

    it("runs production's objects on the cluster and serves the page", {
      timeout: 1_200_000,
    }, async () => {
      project = await copyExample(`it-mir-${backend}`);
      await mirrorRoundtripLayout(project);
      const mirrored = await project.cli(["up", "--mirror", "--backend", backend, "--json"]);
      expectOk(mirrored);
      webUrl = jsonField<Record<string, string>>(mirrored, "urls").web ?? "";
      expect(webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await httpGet(`${webUrl}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<span id="greeting">');
    });

    it("parity --against running on the cluster: only expected differences, then a change named", {
      timeout: 300_000,
    }, async () => {
      const clean = await project.cli(["parity", "--against", "running", "--json"]);
      expectOk(clean);
      const differences = jsonField<{ field: string; expected: boolean }[]>(clean, "differences");
      expect(differences.filter((difference) => !difference.expected)).toEqual([]);

      // Someone edits the Deployment on the cluster: an env key renamed.
      const config = new KubeConfig();
      config.loadFromFile(path.join(project.dir, ".prodlike", "local", "kubeconfig"));
      const apps = config.makeApiClient(AppsV1Api);
      const namespace = project.name;
      const web = await apps.readNamespacedDeployment({ name: "web", namespace });
      for (const container of web.spec?.template.spec?.containers ?? []) {
        for (const variable of container.env ?? [])
          if (variable.name === "DB_PORT") variable.name = "DATABASE_PORT";
      }
      await apps.replaceNamespacedDeployment({ name: "web", namespace, body: web });
      const drifted = await project.cli(["parity", "--against", "running", "--json"]);
      expect(drifted.exitCode).toBe(1);
      expect(
        jsonField<{ container: string; field: string; expected: boolean }[]>(
          drifted,
          "differences",
        ).filter((difference) => !difference.expected),
      ).toMatchObject([{ container: "php-fpm", field: "env-names" }]);
    });

    it("destroy deletes the cluster and keeps the images the mirror loaded", {
      timeout: 300_000,
    }, async () => {
      const destroyed = await project.cli(["destroy", "--backend", backend, "--json"]);
      expectOk(destroyed);
      const removed = jsonField<{ images: string[]; clusters: string[] }>(destroyed, "removed");
      expect(removed.images).toEqual([]);
      expect(removed.clusters).toEqual([`prodlike-${project.name}-local`]);
    });
  });
}
