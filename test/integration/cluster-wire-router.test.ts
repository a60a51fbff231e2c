import { appendFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { KubeWireServer } from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import { copyExample, docker, expectOk, jsonField, type TestProject } from "./support/harness.js";
import { routedRequest, routerOf } from "./support/routed.js";

// `https://ENV.PROJECT.localhost` for an environment on an existing cluster (the wire
// double): the local router (a container on the real engine, shared by every user of
// it) cannot dial this machine's loopback, so the background session listens on the
// router network's gateway as well, and the name goes there, through the port-forward,
// to the pod. Requests are made as a browser makes them, TLS verified with the router's
// CA. Destroy takes the name away.

describe("the local router's name for an environment on an existing cluster", () => {
  let server: KubeWireServer;
  let registry: LocalRegistry;
  let project: TestProject;
  let kubeconfig = "";
  let https = "";
  let webUrl = "";
  // What the background session said (its log under the state folder's sessions/).
  const sessionLog = async () => {
    const dir = path.join(project.home, "sessions");
    const files = await readdir(dir).catch(() => []);
    const logs = await Promise.all(
      files
        .filter((file) => file.endsWith(".log"))
        .map((file) => readFile(path.join(dir, file), "utf8")),
    );
    return logs.join("\n");
  };
  const cli = (args: string[]) => project.cli(args, { env: { KUBECONFIG: kubeconfig } });

  beforeAll(async () => {
    server = await KubeWireServer.start({
      runtime: new DockerRuntime(),
      execProtocols: EXEC_PROTOCOLS_V5,
      // Namespaces go through Terminating as a real cluster's do: destroy waits until the
      // pods are gone, so the code image it removes is no longer in use by them.
      namespaceFinalizeMs: 500,
    });
    registry = await startLocalRegistry();
    project = await copyExample("wt28s-route");
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    kubeconfig = path.join(project.home, "kubeconfig");
    await server.writeKubeconfig(kubeconfig, "team-dev");
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      `cluster:\n  context: team-dev\n  registry: ${registry.host}/team\n`,
    );
  }, 120_000);

  afterAll(async () => {
    if (project) await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await server?.close();
    await registry?.close();
    await project?.cleanup();
  });

  it("up gives it https://local.PROJECT.localhost, served from the pod with the router's certificate", async () => {
    const up = await cli(["up", "--backend", "cluster", "--json"]);
    expectOk(up);
    const urls = jsonField<Record<string, string>>(up, "urls");
    https = urls.https ?? "";
    webUrl = urls.web ?? "";
    expect(https).toMatch(new RegExp(`^https://local\\.${project.name}\\.localhost(:\\d+)?/$`));
    const { ca } = await routerOf(project);
    const page = await routedRequest(https, { ca });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<h1>drupal-basic</h1>");
    // The pod answered: the double's pods are named after their Deployment.
    expect(page.body).toMatch(/served by web-/);
  });

  it("a live edit is served under the name too", async () => {
    const { ca } = await routerOf(project);
    await writeFile(path.join(project.dir, "web", "routed.php"), "<?php echo 'routed edit';\n");
    const deadline = Date.now() + 20_000;
    let body = "";
    while (Date.now() < deadline && body !== "routed edit") {
      body = await routedRequest(new URL("/routed.php", https).href, { ca })
        .then((page) => page.body)
        .catch((error: unknown) => `failed: ${String(error)}`);
      if (body !== "routed edit") await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const direct = await fetch(new URL("/routed.php", webUrl))
      .then((response) => response.text())
      .catch((error: unknown) => `failed: ${String(error)}`);
    expect({ body, direct }, await sessionLog()).toEqual({
      body: "routed edit",
      direct: "routed edit",
    });
  });

  it("destroy takes the name away", async () => {
    expectOk(await cli(["destroy", "--keep-images"]));
    const status = await cli(["router", "status", "--json"]);
    expectOk(status);
    const routes = jsonField<{ host: string }[]>(status, "routes").map((route) => route.host);
    expect(routes.filter((host) => host.endsWith(`${project.name}.localhost`))).toEqual([]);
    // Its code image went with it (no pod holds it any more).
    const left = (await docker.listImages())
      .flatMap((image) => image.RepoTags ?? [])
      .filter((tag) => tag.includes(`prodlike/code-${project.name}`));
    expect(left).toEqual([]);
  });
});
