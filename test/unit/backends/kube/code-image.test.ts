import { execFile } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { prepareCodeImage, uncommittedFiles } from "../../../../src/backends/kube/code-image.js";
import { writeCodeFiles } from "../../../../src/env/generated-files.js";
import type { CommandRunner } from "../../../../src/process/command-runner.js";
import { ExecaCommandRunner } from "../../../../src/process/execa-command-runner.js";
import type { ClusterPlacement, Topology } from "../../../../src/topology/model.js";
import { SilentProgress } from "../../../../src/ui/plain-progress.js";
import { drupalTopology } from "../../../support/drupal-topology.js";

// The code image of an environment on a remote cluster: the checkout's tree plus what up
// generates into it (per environment, so .gitignore leaves it out), tagged by content.

const exampleRoot = path.resolve(import.meta.dirname, "../../../../examples/drupal-basic");
const run = promisify(execFile);
const unusedRunner: CommandRunner = {
  run: () => Promise.reject(new Error("git is not used when syncing")),
  stream: () => Promise.reject(new Error("git is not used when syncing")),
};

describe("the code image", () => {
  const folders: string[] = [];
  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  async function checkout(): Promise<{ topology: Topology; placement: ClusterPlacement }> {
    const base = await mkdtemp(path.join(os.tmpdir(), "code-image-"));
    folders.push(base);
    const codeRoot = path.join(base, "shop");
    await cp(exampleRoot, codeRoot, { recursive: true });
    const topology = { ...(await drupalTopology({ docroot: "web" })), codeRoot };
    const placement: ClusterPlacement = {
      kubeconfig: "/dev/null",
      context: "dev",
      namespace: "prodlike-shop-local",
      owner: "dev.host",
      code: { mode: "sync", exclude: [] },
    };
    return { topology, placement };
  }

  async function archived(context: string, archive: string): Promise<string[]> {
    const { stdout } = await run("tar", ["-tf", path.join(context, archive)]);
    return stdout.split("\n").filter(Boolean);
  }

  it("carries the generated settings, and keeps its tag once up wrote them into the checkout", async () => {
    const { topology, placement } = await checkout();
    const first = await prepareCodeImage(topology, placement, unusedRunner);
    folders.push(first.context);
    const generated = await archived(first.context, "generated.tar");
    for (const codeFile of topology.codeFiles) expect(generated).toContain(codeFile.path);
    expect(await archived(first.context, "code.tar")).toContain("web/index.php");

    // What up does after the image is made: the files and folders written into the tree.
    await writeCodeFiles(topology, new SilentProgress());
    const second = await prepareCodeImage(topology, placement, unusedRunner);
    folders.push(second.context);
    expect(second.tag).toBe(first.tag);
    expect(await archived(second.context, "code.tar")).not.toContain(topology.codeFiles[0]?.path);

    // A change of the code itself is a new image.
    await writeFile(path.join(topology.codeRoot, "web", "index.php"), "<?php echo 'edited';\n");
    const edited = await prepareCodeImage(topology, placement, unusedRunner);
    folders.push(edited.context);
    expect(edited.tag).not.toBe(first.tag);
  });
});

describe("what --bake leaves out", () => {
  it("lists the checkout's changed, staged, deleted and new files, not ignored or generated ones", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "code-image-git-"));
    try {
      const git = (...args: string[]) =>
        run("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.test", ...args]);
      const topology = {
        codeRoot: root,
        codeFiles: [{ path: "settings.generated.php" }] as Topology["codeFiles"],
      };
      await writeFile(path.join(root, ".gitignore"), "ignored.log\n");
      for (const name of ["changed.php", "staged.php", "deleted.php", "kept.php"])
        await writeFile(path.join(root, name), "one\n");
      await git("init", "-q");
      await git("add", "-A");
      await git("commit", "-q", "-m", "first");
      const runner = new ExecaCommandRunner();
      expect(await uncommittedFiles(runner, topology)).toEqual([]);

      await writeFile(path.join(root, "changed.php"), "two\n");
      await writeFile(path.join(root, "staged.php"), "two\n");
      await git("add", "staged.php");
      await rm(path.join(root, "deleted.php"));
      await writeFile(path.join(root, "new.php"), "new\n");
      await writeFile(path.join(root, "ignored.log"), "log\n");
      await writeFile(path.join(root, "settings.generated.php"), "<?php\n");
      expect(await uncommittedFiles(runner, topology)).toEqual([
        "changed.php",
        "deleted.php",
        "new.php",
        "staged.php",
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
