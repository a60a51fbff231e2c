import { appendFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { KubeWireServer } from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import { copyExample, expectOk, httpGet, type TestProject, webUrlOf } from "./support/harness.js";

// Live sync on `--backend cluster`: the environment is up on the wire double (its pods are
// Docker containers, their code an emptyDir the init container filled from the code
// image), the background session `up` left runs the sync, and files are edited in the
// checkout as an editor or git would. What the pods hold is read from the pods' own
// containers (docker exec, not prodlike), what they serve through the forwarded URL.

const CODE = "/var/www/html";
const SYNC_TIMEOUT_MS = 20_000;

describe("live sync into an existing cluster's pods (wire double)", () => {
  let server: KubeWireServer;
  let runtime: DockerRuntime;
  let registry: LocalRegistry;
  let project: TestProject;
  let kubeconfig = "";
  let webUrl = "";
  const cli = (args: string[]) =>
    project.cli(args, { env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off" } });
  const namespace = () => `prodlike-${project.name}-local`;
  const file = (relative: string) => path.join(project.dir, relative);

  // The running containers of one workload's pods that mount the code (web: nginx and
  // php-fpm share the pod's code volume, so php-fpm's view is nginx's; cli: its own pod).
  async function codeContainers(): Promise<string[]> {
    const { stdout } = await execa("docker", [
      "ps",
      "--filter",
      `label=kube-wire=${runtime.id}`,
      "--format",
      "{{.Names}}",
    ]);
    return stdout
      .split("\n")
      .filter(
        (name) =>
          name.startsWith(`${runtime.id}-${namespace()}-`) &&
          /-(php-fpm|cli)$/.test(name) &&
          !name.includes("-init-"),
      );
  }

  // The file as every code container has it; undefined where it is missing.
  async function inPods(relative: string): Promise<(string | undefined)[]> {
    const containers = await codeContainers();
    expect(containers.length).toBeGreaterThanOrEqual(2);
    return Promise.all(
      containers.map(async (container) => {
        const read = await execa("docker", ["exec", container, "cat", `${CODE}/${relative}`], {
          reject: false,
        });
        return read.exitCode === 0 ? read.stdout : undefined;
      }),
    );
  }

  async function eventually(relative: string, expected: string | undefined): Promise<void> {
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    let seen: (string | undefined)[] = [];
    while (Date.now() < deadline) {
      seen = await inPods(relative);
      if (seen.every((content) => content === expected)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(seen, `${relative} in every code container`).toEqual(seen.map(() => expected));
  }

  beforeAll(async () => {
    runtime = new DockerRuntime();
    server = await KubeWireServer.start({
      runtime,
      execProtocols: EXEC_PROTOCOLS_V5,
      // Namespaces go through Terminating as a real cluster's do: destroy waits until the
      // pods are gone, so the code image it removes is no longer in use by them.
      namespaceFinalizeMs: 500,
    });
    registry = await startLocalRegistry();
    project = await copyExample("wt28s-sync");
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    kubeconfig = path.join(project.home, "kubeconfig");
    await server.writeKubeconfig(kubeconfig, "team-dev");
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      `cluster:\n  context: team-dev\n  registry: ${registry.host}/team\nsync:\n  exclude: [web/scratch/]\n`,
    );
    await appendFile(path.join(project.dir, ".gitignore"), "web/build-cache/\n");
    await writeFile(file("web/kept.php"), "<?php echo 'kept';\n");
    const up = await cli(["up", "--backend", "cluster", "--json"]);
    expectOk(up);
    webUrl = webUrlOf(up);
  }, 600_000);

  afterAll(async () => {
    if (project) await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await server?.close();
    await registry?.close();
    await project?.cleanup();
  });

  it("up baked the checkout into every code container", async () => {
    await eventually("web/kept.php", "<?php echo 'kept';");
  });

  it("a new file, then an edit of it, reach every pod and are served through the forwarded URL", async () => {
    await writeFile(file("web/sync-probe.php"), "<?php echo 'first';\n");
    await eventually("web/sync-probe.php", "<?php echo 'first';");
    expect((await httpGet(`${webUrl}/sync-probe.php`)).body).toBe("first");
    await writeFile(file("web/sync-probe.php"), "<?php echo 'second';\n");
    await eventually("web/sync-probe.php", "<?php echo 'second';");
    // php-fpm revalidates every file (opcache.revalidate_freq = 0): the new code answers.
    expect((await httpGet(`${webUrl}/sync-probe.php`)).body).toBe("second");
  });

  it("a rename removes the old name and sends the new one", async () => {
    await writeFile(file("web/before.php"), "<?php echo 'moved';\n");
    await eventually("web/before.php", "<?php echo 'moved';");
    await rename(file("web/before.php"), file("web/after.php"));
    await eventually("web/after.php", "<?php echo 'moved';");
    await eventually("web/before.php", undefined);
    expect((await httpGet(`${webUrl}/after.php`)).body).toBe("moved");
  });

  it("a deleted file is deleted in the pods, and no longer served", async () => {
    await rm(file("web/kept.php"));
    await eventually("web/kept.php", undefined);
    expect((await httpGet(`${webUrl}/kept.php`)).status).toBe(404);
  });

  it("a folder moved in at once arrives whole", async () => {
    const outside = path.join(project.home, "module");
    await mkdir(path.join(outside, "src"), { recursive: true });
    await writeFile(path.join(outside, "src", "a.php"), "<?php echo 'a';\n");
    await writeFile(path.join(outside, "b.php"), "<?php echo 'b';\n");
    await rename(outside, file("web/module"));
    await eventually("web/module/src/a.php", "<?php echo 'a';");
    await eventually("web/module/b.php", "<?php echo 'b';");
  });

  it("ignored folders (.gitignore, sync.exclude) never reach the pods", async () => {
    for (const folder of ["web/build-cache", "web/scratch"]) {
      await mkdir(file(folder), { recursive: true });
      await writeFile(file(`${folder}/secret.php`), "<?php echo 'local only';\n");
    }
    // Written after them: once it is in the pods, their batch has gone too.
    await writeFile(file("web/marker.php"), "<?php echo 'marker';\n");
    await eventually("web/marker.php", "<?php echo 'marker';");
    for (const folder of ["web/build-cache", "web/scratch"])
      expect(await inPods(`${folder}/secret.php`)).toEqual(
        (await codeContainers()).map(() => undefined),
      );
    expect((await httpGet(`${webUrl}/scratch/secret.php`)).status).toBe(404);
  });
});
