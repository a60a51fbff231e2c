import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { presetDeployment } from "../../../../src/backends/kube/cluster-deployment.js";
import {
  CLUSTER_PERMISSIONS,
  minimalRbacYaml,
  permissionChecks,
} from "../../../../src/backends/kube/cluster-permissions.js";
import { drupalTopology } from "../../../support/drupal-topology.js";

// The one table of rights `--backend cluster` needs: doctor reviews it, docs/clusters.md
// shows the RBAC rendered from it, and every object the backend applies is covered.

const plural: Record<string, string> = {
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  CronJob: "cronjobs",
  Job: "jobs",
  Service: "services",
  ConfigMap: "configmaps",
  Secret: "secrets",
  PersistentVolumeClaim: "persistentvolumeclaims",
  ResourceQuota: "resourcequotas",
  LimitRange: "limitranges",
  Ingress: "ingresses",
};

function rowFor(apiVersion: string, kind: string) {
  const group = apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
  return CLUSTER_PERMISSIONS.find(
    (row) => row.group === group && row.resource === plural[kind] && row.scope === "namespace",
  );
}

describe("the cluster backend's permissions", () => {
  it("cover creating and patching every object an environment with quota, limits and an Ingress applies", async () => {
    const topology = await drupalTopology({});
    topology.placement = {
      kubeconfig: "/k",
      context: "team",
      namespace: "prodlike-shop-local",
      owner: "dev.box",
      registry: "registry.example.com/team",
      ingress: { domain: "dev.example.com" },
      resources: { cpu: "500m", memory: "512Mi" },
      quota: { cpu: "4", memory: "8Gi", storage: "20Gi" },
      code: { mode: "sync", exclude: [] },
    };
    const deployment = presetDeployment(topology, {
      backend: "cluster",
      code: { kind: "sent" },
      nodePorts: false,
      codeImage: { tag: "registry.example.com/team/code:id-1", base: "php", context: "/tmp/x" },
      pullSecret: "{}",
    });
    const kinds = new Set(
      deployment.objects.map((object) => `${object.apiVersion} ${object.kind}`),
    );
    // The placement's own objects are among them, so the check below means something.
    expect([...kinds].map((entry) => entry.split(" ")[1])).toEqual(
      expect.arrayContaining(["ResourceQuota", "LimitRange", "Ingress", "Deployment", "Secret"]),
    );
    for (const entry of kinds) {
      const [apiVersion = "", kind = ""] = entry.split(" ");
      const row = rowFor(apiVersion, kind);
      expect(row, `${kind} (${apiVersion}) is applied but not in the table`).toBeDefined();
      expect(row?.verbs).toEqual(expect.arrayContaining(["create", "patch"]));
    }
  });

  it("reviews namespaced rights in the environment's namespace, the namespaces' at cluster scope", () => {
    const checks = permissionChecks("prodlike-shop-local");
    expect(checks).toContainEqual({
      verb: "delete",
      group: "",
      resource: "namespaces",
      namespace: "",
    });
    expect(checks).toContainEqual({
      verb: "create",
      group: "",
      resource: "pods",
      subresource: "exec",
      namespace: "prodlike-shop-local",
    });
    expect(checks.length).toBe(CLUSTER_PERMISSIONS.reduce((sum, row) => sum + row.verbs.length, 0));
  });

  it("renders a Role in a fixed namespace, a ClusterRole otherwise, granting exactly the table", () => {
    for (const fixed of [undefined, "qa-42"]) {
      const objects = parseAllDocuments(minimalRbacYaml(fixed)).map(
        (document) =>
          document.toJS() as {
            kind: string;
            metadata: { namespace?: string };
            rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
          },
      );
      expect(objects.map((object) => object.kind)).toEqual([
        "ClusterRole",
        fixed ? "Role" : "ClusterRole",
      ]);
      expect(objects[1]?.metadata.namespace).toBe(fixed);
      const granted = objects.flatMap((object) =>
        object.rules.flatMap((rule) =>
          rule.resources.flatMap((resource) =>
            rule.verbs.map((verb) => `${rule.apiGroups[0]}|${resource}|${verb}`),
          ),
        ),
      );
      const table = CLUSTER_PERMISSIONS.flatMap((row) =>
        row.verbs.map((verb) => `${row.group}|${row.resource}|${verb}`),
      );
      expect(granted.sort()).toEqual(table.sort());
    }
  });

  it("docs/clusters.md shows the RBAC rendered from the table", async () => {
    const docs = await readFile(new URL("../../../../docs/clusters.md", import.meta.url), "utf8");
    expect(docs).toContain(`\`\`\`yaml\n${minimalRbacYaml()}\`\`\``);
  });
});
