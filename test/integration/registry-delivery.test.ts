import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryDelivery } from "../../src/backends/kube/registry-delivery.js";
import type { CommandRunner } from "../../src/process/command-runner.js";
import { ExecaCommandRunner } from "../../src/process/execa-command-runner.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";

// Image delivery through a local registry (kind's local-registry pattern), against a real
// registry (Debian's docker-registry) and the real engine: pushed by a tag that names the
// content, an image already there never sent again, a changed image sending only its
// new layer.

describe("registry image delivery", () => {
  let registry: LocalRegistry;
  let dir: string;
  const repository = `kw32-delivery-${randomBytes(3).toString("hex")}/app`;
  const spec = {
    cluster: "c",
    codeRoot: "/",
    portMappings: [],
    workDir: "/",
    kubeconfig: "/",
    context: "c",
    namespace: "n",
    labels: {},
    annotations: {},
  };

  async function build(tag: string, lines: string[]): Promise<string> {
    const context = path.join(dir, tag);
    await execa("mkdir", ["-p", context]);
    await writeFile(path.join(context, "Dockerfile"), `${lines.join("\n")}\n`);
    await execa("docker", ["build", "-q", "-t", `${repository}:${tag}`, context]);
    return `${repository}:${tag}`;
  }

  beforeAll(async () => {
    registry = await startLocalRegistry();
    dir = await mkdtemp(path.join(os.tmpdir(), "kw32-delivery-"));
  });

  afterAll(async () => {
    await execa("docker", ["image", "rm", `${repository}:one`, `${repository}:two`], {
      reject: false,
    });
    await registry?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pushes by content tag, then only checks; a changed image sends only its new layer", async () => {
    // The engine's own words for each layer it pushed, kept to read back.
    const pushes: string[] = [];
    const engine = new ExecaCommandRunner();
    const runner: CommandRunner = {
      stream: (file, args, options) => engine.stream(file, args, options),
      async run(file, args, options) {
        const result = await engine.run(file, args, options);
        if (args[0] === "push") pushes.push(result.stdout);
        return result;
      },
    };
    const delivery = new RegistryDelivery(runner, { registry: registry.host });
    const one = await build("one", [
      "FROM debian:trixie-slim",
      `RUN echo ${randomBytes(8).toString("hex")} > /one`,
    ]);
    const first = await delivery.deliver(spec, [one], new Set());
    expect(first.sent).toEqual([one]);
    const reference = first.references[one] ?? "";
    expect(reference).toMatch(new RegExp(`^${registry.host}/${repository}:id-[0-9a-f]{32}$`));
    // Only the local tag stays in the engine; the registry's name went after the push.
    const tags = (await execa("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]))
      .stdout;
    expect(tags).not.toContain(reference);
    const blobs = await registry.blobCount();

    const again = await delivery.deliver(spec, [one], new Set());
    expect(again).toEqual({ references: { [one]: reference }, sent: [] });
    expect(await registry.blobCount()).toBe(blobs);

    const two = await build("two", [`FROM ${one}`, "RUN echo changed > /two"]);
    const changed = await delivery.deliver(spec, [two], new Set());
    expect(changed.sent).toEqual([two]);
    // One push each time an image was new; the second sent its new layer only: the
    // registry had every layer of the first.
    expect(pushes).toHaveLength(2);
    const layers = (output: string) =>
      output.split("\n").filter((line) => /: (Pushed|Layer already exists)$/.test(line));
    expect(layers(pushes[1] ?? "").filter((line) => line.endsWith("Pushed"))).toHaveLength(1);
    expect(layers(pushes[1] ?? "").filter((line) => line.endsWith("already exists"))).toHaveLength(
      layers(pushes[0] ?? "").length,
    );
    // New blobs: that layer, the image config and the manifest.
    expect(await registry.blobCount()).toBe(blobs + 3);
    // Pulled back by the reference the cluster is given, it is the same image.
    const pulled = changed.references[two] ?? "";
    await execa("docker", ["pull", "-q", pulled]);
    const ids = await Promise.all(
      [two, pulled].map(
        async (image) =>
          (await execa("docker", ["image", "inspect", "--format", "{{.Id}}", image])).stdout,
      ),
    );
    expect(ids[0]).toBe(ids[1]);
    await execa("docker", ["image", "rm", "--no-prune", pulled]);
  });
});
