import { appendFile, mkdir } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { requireType } from "../support/kube-wire/routes.js";
import { KubeWireServer } from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import {
  copyExample,
  describeFailure,
  docker,
  expectOk,
  httpGet,
  jsonField,
  type TestProject,
} from "./support/harness.js";

// `--backend cluster` end to end: a team's existing cluster is the Kubernetes API server
// double (its pods are Docker containers, so client-node speaks the real protocols:
// server-side apply, exec, port-forward over websocket), the images go through a real
// registry on 127.0.0.1 (Debian's docker-registry), and this machine reaches the pods only
// through the port-forwards the background session keeps (the double maps no NodePort).
// The namespace is the environment's own: created and labelled by prodlike, one without
// its labels refused, deleted by destroy once the cluster finalized it.

describe("prodlike --backend cluster on an existing cluster (wire double, real registry)", () => {
  let server: KubeWireServer;
  let registry: LocalRegistry;
  let project: TestProject;
  let kubeconfig = "";
  let webUrl = "";
  const namespaces = requireType("v1", "Namespace");
  const cli = (args: string[]) =>
    project.cli(args, { env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off" } });
  const namespaceOf = (env: string) => `prodlike-${project.name}-${env}`;
  const liveNamespace = (name: string) => server.store.get(namespaces, "", name);

  beforeAll(async () => {
    server = await KubeWireServer.start({
      runtime: new DockerRuntime(),
      execProtocols: EXEC_PROTOCOLS_V5,
      // Namespaces go through Terminating, as a real cluster's do: destroy must wait.
      namespaceFinalizeMs: 500,
    });
    registry = await startLocalRegistry();
    project = await copyExample("it-exist");
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    kubeconfig = path.join(project.home, "kubeconfig");
    await server.writeKubeconfig(kubeconfig, "team-dev");
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      `cluster:\n  context: team-dev\n  registry: ${registry.host}/team\n`,
    );
  });

  afterAll(async () => {
    if (project) await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await server?.close();
    await registry?.close();
    await project?.cleanup();
  });

  it("up creates and labels the namespace, pushes to the registry, applies and serves through a port-forward", async () => {
    const up = await cli(["up", "--backend", "cluster", "--json"]);
    expectOk(up);
    webUrl = jsonField<Record<string, string>>(up, "urls").web ?? "";
    expect(webUrl).toMatch(/^http:\/\/(127\.0\.0\.1|localhost):\d+/);
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);

    const namespace = liveNamespace(namespaceOf("local"));
    expect(namespace?.metadata.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "prodlike",
      "prodlike.dev/env": `${project.name}-local`,
      "prodlike.dev/project": project.name,
    });
    expect(namespace?.metadata.labels?.["prodlike.dev/owner"]).toMatch(/^[A-Za-z0-9][\w.-]*$/);

    // The workloads run the images the registry has, by content tag; nothing else is
    // created outside the namespace.
    const web = server.store.get(requireType("apps/v1", "Deployment"), namespaceOf("local"), "web");
    const images = (
      web as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }
    ).spec.template.spec.containers.map((container) => container.image);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images)
      expect(image).toMatch(new RegExp(`^${registry.host}/team/[a-z0-9/-]+:id-[0-9a-f]+$`));
    expect(await registry.blobCount()).toBeGreaterThan(0);
    for (const [apiVersion, kind] of [
      ["apps/v1", "Deployment"],
      ["apps/v1", "StatefulSet"],
      ["v1", "Service"],
    ] as const) {
      const where = server.store
        .list(requireType(apiVersion, kind))
        .map((object) => object.metadata.namespace);
      expect(new Set(where.filter((namespace) => namespace !== "kube-system"))).toEqual(
        new Set([namespaceOf("local")]),
      );
    }
  });

  it("a second up changes nothing and pushes nothing", async () => {
    const blobs = await registry.blobCount();
    const again = await cli(["up", "--json"]);
    expectOk(again);
    expect(again.json).toMatchObject({ changed: false });
    expect(await registry.blobCount()).toBe(blobs);
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);
  });

  it("status and ls answer with the forwarded URLs, the web port forwarded to the pod", async () => {
    const status = await cli(["status", "--json"]);
    expectOk(status);
    expect(status.json).toMatchObject({ environment: { backend: "cluster", state: "running" } });
    expect(JSON.stringify(status.json)).toContain(webUrl);
    const listed = await cli(["ls", "--json"]);
    expectOk(listed);
    expect(JSON.stringify(listed.json)).toContain(webUrl);
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);
  });

  it("the forwarded URL keeps working when its pod is replaced", async () => {
    const pods = requireType("v1", "Pod");
    const webPod = () =>
      server.store
        .list(pods, namespaceOf("local"))
        .find(
          (pod) =>
            pod.metadata.labels?.["app.kubernetes.io/name"] === "web" &&
            !pod.metadata.deletionTimestamp,
        )?.metadata.name;
    const old = webPod();
    expect(old).toBeDefined();
    // Deleted through the API, as `kubectl delete pod` or an eviction would: the
    // Deployment's ReplicaSet makes a new pod, the session's listener stays.
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    await config
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ name: old ?? "", namespace: namespaceOf("local") });
    const deadline = Date.now() + 180_000;
    let answered = 0;
    while (Date.now() < deadline) {
      const fresh = webPod();
      if (fresh && fresh !== old) {
        answered = await httpGet(`${webUrl}/`)
          .then((page) => page.status)
          .catch(() => 0);
        if (answered > 0 && answered < 500) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(500);
    expect(webPod()).not.toBe(old);
  });

  it("a namespace prodlike did not label is refused, and left as it was", async () => {
    const foreign = namespaceOf("other");
    server.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: foreign } });
    const refused = await cli(["up", "--name", "other", "--backend", "cluster", "--json"]);
    expect(refused.exitCode, describeFailure(refused)).not.toBe(0);
    expect(JSON.stringify(refused.json)).toContain("NAMESPACE_FOREIGN");
    expect(liveNamespace(foreign)?.metadata.labels ?? {}).toEqual({});
    expect(
      server.store.list(requireType("apps/v1", "Deployment"), foreign).map((o) => o.metadata.name),
    ).toEqual([]);
    // Nothing of it was made, so nothing is recorded: ls does not list it.
    const listed = await cli(["ls", "--json"]);
    expect(JSON.stringify(listed.json)).not.toContain(`${project.name}-other`);
  });

  it("destroy deletes the namespace, waits until it is gone, and stops the port-forwards", async () => {
    const port = Number(new URL(webUrl).port);
    const destroyed = await cli(["destroy", "--keep-images", "--json"]);
    expectOk(destroyed);
    expect(liveNamespace(namespaceOf("local"))).toBeUndefined();
    expect(await listening(port)).toBe(false);
    // The code image is the environment's own: gone with it under every tag it was given
    // (the registry reference too), --keep-images notwithstanding (that keeps the preset's).
    const codeImages = (await docker.listImages()).filter((image) =>
      (image.RepoTags ?? []).some((tag) => tag.includes(`prodlike/code-${project.name}`)),
    );
    expect(
      codeImages.flatMap((image) => image.RepoTags ?? []),
      destroyed.stderr,
    ).toEqual([]);
  });
});

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
