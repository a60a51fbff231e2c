import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { takeInventory } from "../../../src/mirror/inventory.js";
import { readCluster } from "../../../src/mirror/live-cluster.js";

// A recorded namespace, as the API server lists it (server fields and all).
const recorded: Record<string, KubernetesObject[]> = {
  Deployment: [
    {
      metadata: {
        name: "web",
        namespace: "shop",
        uid: "6d1c",
        resourceVersion: "918273",
        generation: 12,
        creationTimestamp: new Date("2026-01-01T00:00:00Z"),
        managedFields: [{ manager: "kubectl" }],
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": "{…}",
          "deployment.kubernetes.io/revision": "12",
          "team.example.com/owner": "shop",
        },
      },
      spec: { replicas: 4 },
      status: { readyReplicas: 4 },
    } as KubernetesObject,
  ],
  Job: [
    {
      metadata: {
        name: "drush-cron-29377",
        namespace: "shop",
        ownerReferences: [{ kind: "CronJob", name: "drush-cron" }],
      },
    } as KubernetesObject,
  ],
  Secret: [
    {
      metadata: { name: "shop-secrets", namespace: "shop" },
      type: "Opaque",
      data: { DB_PASSWORD: "cHJvZA==" },
    } as KubernetesObject,
    {
      metadata: { name: "sh.helm.release.v1.shop.v7", namespace: "shop" },
      type: "helm.sh/release.v1",
    } as KubernetesObject,
  ],
  ServiceAccount: [
    { metadata: { name: "default", namespace: "shop" } },
    { metadata: { name: "shop", namespace: "shop" } },
  ],
  ConfigMap: [{ metadata: { name: "kube-root-ca.crt", namespace: "shop" } }],
  DaemonSet: [{ metadata: { name: "fluent-bit", namespace: "shop" } }],
};

function stubClient() {
  const calls: string[] = [];
  return {
    calls,
    async list(apiVersion: string, kind: string, namespace?: string) {
      calls.push(`list ${apiVersion} ${kind} ${namespace}`);
      return { items: recorded[kind] ?? [] };
    },
  };
}

describe("readCluster", () => {
  it("only lists, one call per kind in the one namespace", async () => {
    const client = stubClient();
    await readCluster(client, { context: "prod", namespace: "shop" });
    expect(client.calls).toContain("list apps/v1 Deployment shop");
    expect(client.calls).toContain("list networking.k8s.io/v1 Ingress shop");
    expect(client.calls.every((call) => call.startsWith("list ") && call.endsWith(" shop"))).toBe(
      true,
    );
  });

  it("reads objects as they were applied, leaving out what the cluster made itself", async () => {
    const documents = await readCluster(stubClient(), { context: "prod", namespace: "shop" });
    expect(documents.map((d) => `${d.object.kind}/${d.object.metadata.name}`)).toEqual([
      "Deployment/web",
      "DaemonSet/fluent-bit",
      "Secret/shop-secrets",
      "ServiceAccount/shop",
    ]);
    const web = documents[0]?.object;
    expect(web).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace: "shop",
        annotations: { "team.example.com/owner": "shop" },
      },
      spec: { replicas: 4 },
    });
    expect(documents[0]?.source).toBe("cluster prod/shop");
    // Secret values from the cluster are dropped at the door like any others.
    const { documents: kept, skipped } = takeInventory(documents);
    expect(JSON.stringify(kept)).not.toContain("cHJvZA==");
    expect(skipped.map((entry) => entry.kind)).toEqual(["DaemonSet"]);
  });

  it("leaves out what the server allocated: cluster IPs, a claim's volume and binding, a StatefulSet's claims", async () => {
    const bound = {
      name: "data-db-0",
      namespace: "shop",
      annotations: {
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
      },
      finalizers: ["kubernetes.io/pvc-protection"],
    };
    const client = {
      async list(_apiVersion: string, kind: string) {
        const items: Record<string, unknown[]> = {
          Service: [
            {
              metadata: { name: "web", namespace: "shop" },
              spec: { clusterIP: "10.43.12.7", clusterIPs: ["10.43.12.7"], ports: [{ port: 80 }] },
            },
            {
              metadata: { name: "db", namespace: "shop" },
              spec: { clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 3306 }] },
            },
          ],
          StatefulSet: [
            {
              metadata: { name: "db", namespace: "shop" },
              spec: { volumeClaimTemplates: [{ metadata: { name: "data" } }] },
            },
          ],
          PersistentVolumeClaim: [
            { metadata: bound, spec: { volumeName: "pvc-1", accessModes: ["ReadWriteOnce"] } },
            {
              metadata: { ...bound, name: "media" },
              spec: { volumeName: "pvc-2", accessModes: ["ReadWriteMany"] },
              status: { phase: "Bound" },
            },
          ],
        };
        return { items: items[kind] ?? [] };
      },
    };
    const documents = await readCluster(client, { context: "prod", namespace: "shop" });
    const byName = (kind: string, name: string) =>
      documents.find((d) => d.object.kind === kind && d.object.metadata.name === name)?.object;
    expect(byName("Service", "web")?.spec).toEqual({ ports: [{ port: 80 }] });
    expect(byName("Service", "db")?.spec).toMatchObject({ clusterIP: "None" });
    // The StatefulSet makes its own claims again; a claim of its own is kept, unbound.
    expect(byName("PersistentVolumeClaim", "data-db-0")).toBeUndefined();
    expect(byName("PersistentVolumeClaim", "media")).toEqual({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "media", namespace: "shop" },
      spec: { accessModes: ["ReadWriteMany"] },
    });
  });
});
