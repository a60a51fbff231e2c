import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withPresetFolder } from "../../../src/config/load-config.js";
import { configSchema } from "../../../src/config/schema.js";
import { detectProject } from "../../../src/core/init-config.js";
import { topologyFromPreset } from "../../../src/topology/preset-importer.js";
import { listPresets, loadPreset } from "../../../src/topology/preset-loader.js";
import { repoRoot } from "../../support/example-project.js";

// A preset in a folder of its own (test/fixtures/presets/static-site), as a project keeps
// one: it loads, builds on prodlike's shared images, is recognized by its own detect
// rule and carries its steps and installer, with nothing in prodlike naming it.

const FIXTURE = path.join(repoRoot, "test", "fixtures", "presets", "static-site");

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("a preset in a project's own folder", () => {
  it("is named by a path relative to the code root", () => {
    const config = configSchema.parse({ preset: "./presets/static-site" });
    expect(withPresetFolder(config, "/home/dev/site").preset).toBe(
      "/home/dev/site/presets/static-site",
    );
    // A built-in stays a name.
    expect(withPresetFolder(configSchema.parse({}), "/x").preset).toBe("drupal");
  });

  it("loads, and builds on prodlike's shared images (one image for every preset)", async () => {
    const preset = await loadPreset(FIXTURE);
    const topology = topologyFromPreset(preset, configSchema.parse({ preset: FIXTURE }), {
      identity: { project: "site", name: "local", id: "site-local" },
      codeRoot: "/home/dev/site",
      hostPorts: { web: 8080, db: 13306 },
      dbPassword: "s3cret-password-123",
    });
    const web = topology.services.find((service) => service.name === "web");
    expect(web?.image).toMatchObject({
      kind: "build",
      context: path.join(repoRoot, "presets", "_shared", "images", "nginx"),
      tag: expect.stringMatching(/^prodlike\/nginx:/),
    });
    expect(topology.install).toEqual({
      check: expect.stringContaining("site_installed"),
      command: "install",
      installed: false,
    });
    expect(topology.commands?.install?.service).toBe("db");
    expect(preset.definition.refresh.map((step) => step.done)).toEqual(["{{service}} reloaded"]);
    // prodlike's own list of built-ins does not know it.
    expect(await listPresets()).not.toContain("static-site");
  });

  it("is recognized by its own detect rule, ranked with the built-ins", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-detect-"));
    await writeFile(path.join(dir, "static-site.txt"), "");
    // A composer.json asking for Drupal: the fixture's priority (50) ranks it first.
    await writeFile(
      path.join(dir, "composer.json"),
      JSON.stringify({ require: { "drupal/core": "^11" } }),
    );
    const builtIns = await Promise.all(
      (await listPresets()).map(async (name) => ({
        name,
        definition: (await loadPreset(name)).definition,
      })),
    );
    const fixture = { name: "static-site", definition: (await loadPreset(FIXTURE)).definition };
    expect(await detectProject(dir, [...builtIns, fixture])).toMatchObject({
      preset: "static-site",
      reason: "static-site.txt found",
    });
    expect((await detectProject(dir, builtIns)).preset).toBe("drupal");
  });

  it("says which folder holds no preset", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-nopreset-"));
    await expect(loadPreset(dir)).rejects.toMatchObject({
      code: "PRESET_UNKNOWN",
      message: expect.stringContaining("preset.yaml is missing"),
    });
  });
});
