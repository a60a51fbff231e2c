import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import { parseYaml, validateYaml } from "../../../src/config/yaml-source.js";
import { detectProject, renderConfig, schemaReference } from "../../../src/core/init-config.js";
import { loadPreset } from "../../../src/topology/preset-loader.js";

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-init-"));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

describe("detectProject", () => {
  it("detects Drupal from composer.json and the docroot from index.php", async () => {
    const dir = await tree({
      "composer.json": JSON.stringify({ require: { "drupal/core-recommended": "^10.3" } }),
      "docroot/index.php": "<?php",
    });
    expect(await detectProject(dir)).toMatchObject({ preset: "drupal", docroot: "docroot" });
  });

  it("writes the PHP composer.json asks for, as a version prodlike builds", async () => {
    const dir = await tree({
      "composer.json": JSON.stringify({
        require: { "drupal/core-recommended": "^10.3", php: ">=8.1 <8.4" },
      }),
    });
    const detected = await detectProject(dir);
    expect(detected.php).toEqual({ php: "8.2", from: "require.php >=8.1 <8.4" });
    const text = renderConfig({
      project: "shop",
      preset: "drupal",
      docroot: "web",
      schemaRef: "schema.json",
      php: detected.php,
    });
    expect(text).toContain('php: "8.2" # composer.json require.php >=8.1 <8.4');
    expect(validateYaml(parseYaml("prodlike.yaml", text), configSchema, () => "").php).toBe("8.2");
  });

  it("defaults the Drupal docroot to web", async () => {
    const dir = await tree({
      "composer.json": JSON.stringify({ require: { "drupal/core": "^11" } }),
    });
    expect(await detectProject(dir)).toMatchObject({ preset: "drupal", docroot: "web" });
  });

  it("detects a Node service from package.json, and the dependencies its clients need", async () => {
    const dir = await tree({
      "package.json": JSON.stringify({
        dependencies: { ioredis: "^5", express: "^4" },
        devDependencies: { pg: "^8" },
      }),
    });
    expect(await detectProject(dir)).toMatchObject({
      preset: "node",
      services: ["redis", "postgres"],
      reason: "package.json found (it uses redis and postgres)",
    });
    const plain = await tree({ "package.json": "{}" });
    expect(await detectProject(plain)).toMatchObject({ preset: "node", services: [] });
  });

  it("prefers composer.json: a Drupal site's package.json is only its front-end build", async () => {
    const dir = await tree({
      "composer.json": JSON.stringify({ require: { "drupal/core": "^11" } }),
      "package.json": "{}",
    });
    expect((await detectProject(dir)).preset).toBe("drupal");
  });

  it("writes a node config that turns on the detected services and validates", async () => {
    const text = renderConfig({
      project: "api",
      preset: "node",
      definition: (await loadPreset("node")).definition,
      docroot: undefined,
      schemaRef: "x.json",
      services: ["redis"],
    });
    expect(text).toContain("services:\n  redis: { enabled: true }");
    expect(text).toContain("web: 3000");
    const config = validateYaml(parseYaml("prodlike.yaml", text), configSchema, () => "");
    expect(config.services?.redis?.enabled).toBe(true);
  });

  it("detects OpenMage from composer.json, or from app/Mage.php in a tree without composer", async () => {
    const lts = await tree({
      "composer.json": JSON.stringify({ require: { "openmage/magento-lts": "^20.10" } }),
      "index.php": "<?php",
    });
    expect(await detectProject(lts)).toMatchObject({ preset: "openmage", docroot: "" });
    const classic = await tree({ "app/Mage.php": "<?php", "index.php": "<?php" });
    expect(await detectProject(classic)).toMatchObject({
      preset: "openmage",
      reason: "app/Mage.php found",
    });
  });

  it("detects nothing in an unknown tree", async () => {
    const dir = await tree({ "README.md": "hi" });
    expect((await detectProject(dir)).preset).toBeUndefined();
  });
});

describe("renderConfig", () => {
  it("writes a file the loader accepts", () => {
    const text = renderConfig({
      project: "shop",
      preset: "drupal",
      docroot: "web",
      schemaRef: "schema.json",
    });
    const config = validateYaml(parseYaml("prodlike.yaml", text), configSchema, () => "");
    expect(config).toMatchObject({
      name: "shop",
      preset: "drupal",
      docroot: "web",
      ports: { web: 8080 },
    });
  });

  it("points editors at the schema relative to the project", () => {
    expect(schemaReference("/p", "/p/node_modules/prodlike/schema/prodlike.schema.json")).toBe(
      "node_modules/prodlike/schema/prodlike.schema.json",
    );
  });

  it("names the published schema when prodlike is installed outside the project", () => {
    // A path into this machine's global install would be committed with prodlike.yaml.
    expect(
      schemaReference(
        "/home/dev/shop",
        "/usr/lib/node_modules/prodlike/schema/prodlike.schema.json",
      ),
    ).toBe("https://prodlike.dev/schema/prodlike.schema.json");
  });
});
