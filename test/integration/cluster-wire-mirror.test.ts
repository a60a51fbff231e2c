import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { KubernetesObject } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ClientNodeKubeApi } from "../../src/backends/kube/kube-api.js";
import { KubeWireServer } from "../support/kube-wire/server.js";
import { copyExample, expectOk, jsonField, type TestProject } from "./support/harness.js";

// `prodlike mirror --context --namespace` reads production from a live cluster: here the
// Kubernetes API server double, holding the round-trip layout as a real server keeps it
// (a Service's cluster IPs, claims bound to volumes with the binder's annotations and the
// protection finalizer, the StatefulSet's own claims). The mirror keeps none of that, and
// `parity` finds production again where the mirror read it.

const roundtrip = fileURLToPath(new URL("../fixtures/manifests/roundtrip.yaml", import.meta.url));
const NAMESPACE = "shop";

describe("mirror from a live cluster (the wire double)", () => {
  let production: KubeWireServer;
  let project: TestProject;
  let kubeconfig = "";
  const cli = (args: string[]) => project.cli(args, { env: { KUBECONFIG: kubeconfig } });

  beforeAll(async () => {
    production = await KubeWireServer.start();
    project = await copyExample("it-wire-mirror");
    kubeconfig = path.join(project.dir, "production-kubeconfig");
    await production.writeKubeconfig(kubeconfig, "prod");
    const api = await ClientNodeKubeApi.connect(kubeconfig, "prod");
    await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
    const documents = parseAllDocuments(await readFile(roundtrip, "utf8"));
    for (const document of Array.isArray(documents) ? documents : [documents]) {
      const object = document.toJS() as KubernetesObject | null;
      if (!object?.kind) continue;
      await api.apply({ ...object, metadata: { ...object.metadata, namespace: NAMESPACE } });
    }
    await api.apply({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "media", namespace: NAMESPACE },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    } as KubernetesObject);
    // Until the cluster's controllers have bound the claims, as production's are.
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const claims = await api.list("v1", "PersistentVolumeClaim", NAMESPACE, "");
      const bound = claims.filter(
        (claim) => (claim as { status?: { phase?: string } }).status?.phase === "Bound",
      );
      if (bound.length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    await production?.close();
    await project?.cleanup();
  });

  it("reads production without what the server allocated or made by itself", async () => {
    const claims = (
      await production.request(`/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims`)
    ).body;
    // The cluster holds what a mirror must not copy.
    expect(claims).toContain("volumeName");
    expect(claims).toContain("kubernetes.io/pvc-protection");
    const mirrored = await cli(["mirror", "--context", "prod", "--namespace", NAMESPACE, "--json"]);
    expectOk(mirrored);
    const manifests = await readFile(
      path.join(project.dir, ".prodlike", "mirror", "manifests.yaml"),
      "utf8",
    );
    for (const serverMade of [
      "volumeName",
      "pv.kubernetes.io/bind-completed",
      "kubernetes.io/pvc-protection",
      "clusterIPs",
      "10.96.",
      "managedFields",
      "resourceVersion",
      "creationTimestamp",
      "uid:",
    ])
      expect(manifests, serverMade).not.toContain(serverMade);
    // The StatefulSet's own claim is made again by its controller, never as an object.
    expect(manifests).not.toMatch(/name: data-db-0/);
    expect(manifests).toMatch(/^ {2}name: media$/m);
  });

  it("parity finds production where the mirror read it, a live cluster", async () => {
    const parity = await cli(["parity", "--json"]);
    expect([0, 1], parity.stderr).toContain(parity.exitCode);
    expect(jsonField<string>(parity, "production")).toBe(`cluster prod/${NAMESPACE}`);
  });
});
