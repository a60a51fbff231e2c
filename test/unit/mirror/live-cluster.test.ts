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
});
