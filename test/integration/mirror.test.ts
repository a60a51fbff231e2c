import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyExample, expectOk, jsonField, type TestProject } from "./support/harness.js";

// `prodlike mirror` as a user runs it (the built CLI; no engine needed): production's
// manifests in, localized manifests and a report out, bad manifests refused with exit 2.

const shop = fileURLToPath(new URL("../fixtures/manifests/shop.yaml", import.meta.url));
let project: TestProject;

beforeAll(async () => {
  project = await copyExample("it-mirror");
});

afterAll(async () => {
  await project?.cleanup();
});

describe("prodlike mirror", () => {
  it("writes the localized manifests (0600, no production secret) and reports transforms and skips", async () => {
    const result = await project.cli(["mirror", "--from", shop, "--json"]);
    expectOk(result);
    const file = jsonField<string>(result, "file");
    expect(file).toBe(path.join(project.dir, ".prodlike", "mirror", "manifests.yaml"));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const written = await readFile(file, "utf8");
    expect(written).not.toContain("cHJvZC1kYi1wYXNzd29yZC1kbzEtbm90LWxlYWs=");
    expect(written).toMatch(/host: shop\.local\.[a-z0-9-]+\.localhost/);
    expect(written).not.toContain("kind: HorizontalPodAutoscaler");
    expect(jsonField<{ kind: string }[]>(result, "skipped").map((entry) => entry.kind)).toEqual([
      "DaemonSet",
      "Certificate",
    ]);
    const transforms = jsonField<{ transform: string }[]>(result, "transforms");
    expect(new Set(transforms.map((entry) => entry.transform))).toEqual(
      new Set([
        "cloud-specific",
        "secrets",
        "replicas",
        "resources",
        "code-mount",
        "autoscaling",
        "disruption-budgets",
        "ingress-hosts",
        "storage-class",
      ]),
    );
    const report = JSON.parse(
      await readFile(path.join(project.dir, ".prodlike", "mirror", "report.json"), "utf8"),
    );
    expect(report.transforms).toEqual(transforms);
    // The compose project derived from the same objects is one compose accepts.
    const composeFile = jsonField<{ file: string }>(result, "compose").file;
    const { execa } = await import("execa");
    const config = await execa("docker-compose", ["-f", composeFile, "config", "-q"], {
      reject: false,
    });
    expect(config.exitCode, config.stderr).toBe(0);
    expect(await readFile(composeFile, "utf8")).not.toContain(
      "cHJvZC1kYi1wYXNzd29yZC1kbzEtbm90LWxlYWs=",
    );
    // The human form lists the same.
    const human = await project.cli(["mirror", "--from", shop]);
    expectOk(human);
    expect(human.stdout).toContain("Skipped (not mirrored):");
    expect(human.stdout).toContain("DaemonSet/fluent-bit");
  });

  it("reads stdin with --from -", async () => {
    const result = await project.cli(["mirror", "--from", "-", "--json"], {
      input: await readFile(shop, "utf8"),
    });
    expectOk(result);
    expect(jsonField<string>(result, "source")).toBe("-");
  });

  it("refuses malformed manifests with exit 2, naming the file and the document", async () => {
    const bad = path.join(project.dir, "bad.yaml");
    await writeFile(
      bad,
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n",
    );
    const result = await project.cli(["mirror", "--from", bad, "--json"]);
    expect(result.exitCode).toBe(2);
    expect(result.json).toMatchObject({
      ok: false,
      error: {
        code: "MANIFEST_INVALID",
        message: `${bad}, document 2 (line 5): \`kind\` is missing`,
      },
    });
    const noContext = await project.cli(
      ["mirror", "--context", "prod", "--namespace", "shop", "--json"],
      { env: { KUBECONFIG: path.join(project.dir, "no-such-kubeconfig") } },
    );
    expect(noContext.exitCode).toBe(2);
    expect(noContext.json).toMatchObject({
      error: { code: "USAGE", message: expect.stringContaining("context prod") },
    });
    const missing = await project.cli(["mirror"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("--from");
  });
});

describe("prodlike parity --against rendered", () => {
  it("exits 0 when every difference comes from a listed transform, 1 naming a local change", async () => {
    await writeFile(
      path.join(project.dir, "prodlike.yaml"),
      `${await readFile(path.join(project.dir, "prodlike.yaml"), "utf8")}mirror:\n  from: ${shop}\n  images: { registry.example.com/shop/php: prodlike/drupal-php-fpm:dev }\n`,
    );
    expectOk(await project.cli(["mirror"]));
    const clean = await project.cli(["parity", "--json"]);
    expectOk(clean);
    const differences = jsonField<{ field: string; expected: boolean }[]>(clean, "differences");
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.every((difference) => difference.expected)).toBe(true);

    const file = path.join(project.dir, ".prodlike", "mirror", "manifests.yaml");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace("name: DB_HOST", "name: DATABASE_HOST"),
    );
    const drifted = await project.cli(["parity", "--json"]);
    expect(drifted.exitCode).toBe(1);
    const unexpected = jsonField<
      {
        workload: string;
        container: string;
        field: string;
        expected: boolean;
        production: string;
      }[]
    >(drifted, "differences").filter((difference) => !difference.expected);
    expect(unexpected).toMatchObject([
      {
        workload: "web",
        container: "php-fpm",
        field: "env-names",
        production: "APP_ENV, DB_HOST, DB_PASSWORD",
      },
    ]);
    const human = await project.cli(["parity"]);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toContain("UNEXPECTED");
    expect(human.stdout).toContain("1 unexpected");

    const policy = path.join(project.dir, "parity-policy.yaml");
    await writeFile(
      policy,
      "allow:\n  - { workload: web, field: env-names, reason: renamed locally on purpose }\n",
    );
    expectOk(await project.cli(["parity", "--policy", policy]));
    await writeFile(policy, "allow:\n  - { field: colour, reason: x }\n");
    const bad = await project.cli(["parity", "--policy", policy]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`${policy}:2`);
  });
});
