import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type {
  V1ConfigMap,
  V1CronJob,
  V1Deployment,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadComposeBase } from "../../../src/topology/compose-base.js";
import { KubeLabel } from "../../../src/topology/kube-labels.js";
import type { Topology } from "../../../src/topology/model.js";
import { renderCompose } from "../../../src/topology/render-compose.js";
import {
  assignNodePorts,
  type KubeObject,
  renderKubernetes,
} from "../../../src/topology/render-kubernetes.js";
import { drupalTopology } from "../../support/drupal-topology.js";
import { validateKubeObject } from "../../support/kube-schemas.js";

const golden = fileURLToPath(new URL("../../fixtures/golden/drupal-kind.yaml", import.meta.url));

const options = (topology: Topology) => ({
  backend: "kind" as const,
  code: { kind: "node-mount" as const, nodeCodePath: "/prodlike/code" },
  nodePorts: assignNodePorts(topology),
});

async function rendered(mutate: (topology: Topology) => void = () => {}) {
  const topology = await drupalTopology({});
  mutate(topology);
  return renderKubernetes(topology, options(topology));
}

function find<T extends KubeObject>(objects: KubeObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => o.kind).join(", ")}`);
  return found as T;
}

describe("renderKubernetes", () => {
  it("renders the Drupal preset to the golden manifests", async () => {
    const { yaml } = await rendered();
    if (process.env.UPDATE_GOLDEN === "1") await writeFile(golden, yaml);
    expect(yaml).toBe(await readFile(golden, "utf8"));
  });

  it("gives objects every one of which the Kubernetes schemas accept", async () => {
    const { objects, yaml } = await rendered();
    expect(objects.map((object) => `${object.kind}/${object.metadata?.name}`)).toEqual([
      "Namespace/shop",
      "Secret/prodlike-secrets",
      "ConfigMap/prodlike-config",
      "Service/web",
      "Service/php-fpm",
      "Service/db",
      "Service/mail",
      "Deployment/web",
      "Deployment/cli",
      "StatefulSet/db",
      "StatefulSet/mail",
    ]);
    for (const object of objects) validateKubeObject(object);
    // The YAML is the same objects.
    const documents = parseAllDocuments(yaml).map((document) => document.toJS());
    expect(documents).toEqual(JSON.parse(JSON.stringify(objects)));
  });

  it("fails validation for an object the API server would reject", async () => {
    const { objects } = await rendered();
    const web = structuredClone(find<V1Deployment>(objects, "Deployment", "web"));
    (web.spec as unknown as Record<string, unknown>).replicas = "one";
    expect(() => validateKubeObject(web)).toThrow(/replicas/);
  });

  it("runs nginx and php-fpm in one pod, nginx reaching php-fpm on loopback", async () => {
    const { objects } = await rendered();
    const web = find<V1Deployment>(objects, "Deployment", "web");
    const containers = web.spec?.template.spec?.containers ?? [];
    expect(containers.map((container) => container.name)).toEqual(["web", "php-fpm"]);
    const config = find<V1ConfigMap>(objects, "ConfigMap", "prodlike-config");
    expect(config.data?.["nginx.conf"]).toContain("set $php_upstream 127.0.0.1:9000;");
    // php-fpm is still a name others can reach, on its exposed port.
    const phpService = find<V1Service>(objects, "Service", "php-fpm");
    expect(phpService.spec?.ports).toEqual([
      { name: "tcp-9000", port: 9000, targetPort: 9000, protocol: "TCP" },
    ]);
    expect(phpService.spec?.selector).toEqual({ [KubeLabel.appName]: "web" });
  });

  it("runs every service in its own pod when the topology groups none", async () => {
    const { objects } = await rendered((topology) => {
      topology.podGroups = {};
    });
    const deployments = objects.filter((object) => object.kind === "Deployment");
    expect(deployments.map((object) => object.metadata?.name)).toEqual(["web", "php-fpm", "cli"]);
    expect(find<V1Service>(objects, "Service", "php-fpm").spec?.selector).toEqual({
      [KubeLabel.appName]: "php-fpm",
    });
  });

  it("keeps the database in a StatefulSet with a claim, its password only in the Secret", async () => {
    const { objects } = await rendered();
    const db = find<V1StatefulSet>(objects, "StatefulSet", "db");
    expect(db.spec?.volumeClaimTemplates?.map((claim) => claim.metadata?.name)).toEqual([
      "db-data",
    ]);
    expect(db.spec?.template.spec?.containers[0]?.volumeMounts).toEqual([
      { name: "db-data", mountPath: "/var/lib/mysql" },
    ]);
    const secret = find<V1Secret>(objects, "Secret", "prodlike-secrets");
    expect(secret.stringData).toEqual({
      DB_PASSWORD: "s3cret-password-123",
      MARIADB_PASSWORD: "s3cret-password-123",
    });
    const workloads = objects.filter((object) => object.kind !== "Secret");
    expect(JSON.stringify(workloads)).not.toContain("s3cret-password-123");
    const dbEnv = db.spec?.template.spec?.containers[0]?.env ?? [];
    expect(dbEnv.find((variable) => variable.name === "MARIADB_PASSWORD")).toEqual({
      name: "MARIADB_PASSWORD",
      valueFrom: { secretKeyRef: { name: "prodlike-secrets", key: "MARIADB_PASSWORD" } },
    });
  });

  it("mounts the node's code path at the same path in nginx, php-fpm and cli", async () => {
    const { objects } = await rendered();
    for (const name of ["web", "cli"]) {
      const spec = find<V1Deployment>(objects, "Deployment", name).spec?.template.spec;
      expect(spec?.volumes).toContainEqual({
        name: "code",
        hostPath: { path: "/prodlike/code", type: "Directory" },
      });
      for (const container of spec?.containers ?? []) {
        expect(container.volumeMounts).toContainEqual({ name: "code", mountPath: "/var/www/html" });
      }
    }
    const db = find<V1StatefulSet>(objects, "StatefulSet", "db").spec?.template.spec;
    expect(db?.volumes).toBeUndefined();
  });

  it("uses the local images by their content tags, never pulling", async () => {
    const { objects } = await rendered();
    const containers = objects.flatMap((object) => {
      if (object.kind === "Deployment" || object.kind === "StatefulSet") {
        return (object as V1Deployment).spec?.template.spec?.containers ?? [];
      }
      return [];
    });
    expect(containers).toHaveLength(5);
    for (const container of containers) {
      expect(container.image).toMatch(/^prodlike\/(drupal-)?[a-z-]+:[0-9a-f]{12}-[0-9a-f]{6}$/);
      expect(container.imagePullPolicy).toBe("IfNotPresent");
    }
  });

  it("turns health checks into startup, readiness and liveness probes", async () => {
    const { objects } = await rendered();
    const db = find<V1StatefulSet>(objects, "StatefulSet", "db").spec?.template.spec?.containers[0];
    expect(db?.startupProbe).toEqual({
      exec: { command: ["prodlike-mariadb-healthcheck"] },
      timeoutSeconds: 5,
      periodSeconds: 1,
      failureThreshold: 180,
    });
    expect(db?.readinessProbe?.exec?.command).toEqual(["prodlike-mariadb-healthcheck"]);
    expect(db?.livenessProbe?.failureThreshold).toBe(6);
    // nginx has no health check: its port gates readiness.
    const nginx = find<V1Deployment>(objects, "Deployment", "web").spec?.template.spec
      ?.containers[0];
    expect(nginx?.readinessProbe?.tcpSocket).toEqual({ port: 80 });
    expect(nginx?.livenessProbe).toBeUndefined();
  });

  it("publishes web and db through NodePorts, in topology order", async () => {
    const topology = await drupalTopology({});
    expect(assignNodePorts(topology)).toEqual({ web: 30080, db: 30081, mail: 30082 });
    const { objects } = renderKubernetes(topology, options(topology));
    const web = find<V1Service>(objects, "Service", "web");
    expect(web.spec?.type).toBe("NodePort");
    expect(web.spec?.ports).toEqual([
      { name: "web", port: 80, targetPort: 80, protocol: "TCP", nodePort: 30080 },
    ]);
    expect(find<V1Service>(objects, "Service", "db").spec?.ports?.[0]?.nodePort).toBe(30081);
  });

  it("labels every object with the environment and rolls pods when config changes", async () => {
    const before = await rendered();
    for (const object of before.objects) {
      expect(object.metadata?.labels?.[KubeLabel.env]).toBe("shop-local");
      expect(object.metadata?.labels?.[KubeLabel.managedBy]).toBe("prodlike");
    }
    const after = await rendered((topology) => {
      const nginx = topology.configFiles.find((file) => file.name === "nginx.conf");
      if (nginx) nginx.content += "\n# changed\n";
    });
    const hash = (result: typeof before) =>
      find<V1Deployment>(result.objects, "Deployment", "web").spec?.template.metadata
        ?.annotations?.["prodlike.dev/config-hash"];
    expect(hash(after)).not.toBe(hash(before));
    expect(hash(before)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("renders a cron service as a CronJob that never overlaps", async () => {
    const { objects } = await rendered((topology) => {
      const cli = topology.services.find((service) => service.name === "cli");
      if (!cli) throw new Error("no cli");
      topology.services.push({
        ...structuredClone(cli),
        name: "cron",
        role: "cron",
        command: ["vendor/bin/drush", "cron"],
        schedule: "*/5 * * * *",
      });
    });
    const cron = find<V1CronJob>(objects, "CronJob", "cron");
    validateKubeObject(cron);
    expect(cron.spec?.schedule).toBe("*/5 * * * *");
    expect(cron.spec?.concurrencyPolicy).toBe("Forbid");
    expect(cron.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args).toEqual([
      "vendor/bin/drush",
      "cron",
    ]);
    expect(
      objects.some((object) => object.kind === "Service" && object.metadata?.name === "cron"),
    ).toBe(false);
  });
});

describe("the Drupal preset per platform", () => {
  it("has one model: nginx's upstream and DNS are left to the renderer", async () => {
    const topology = await drupalTopology();
    const nginx = topology.configFiles.find((file) => file.name === "nginx.conf")?.content;
    expect(nginx).toContain("set $php_upstream @@address:php-fpm@@:9000;");
    expect(nginx).toContain("resolver @@dns-resolver@@ ");
  });

  it("points nginx at the php-fpm service and Docker's DNS on compose", async () => {
    const { configFiles } = renderCompose(await drupalTopology(), {
      configDir: "/x",
      base: await loadComposeBase(),
    });
    const nginx = configFiles.find((file) => file.name === "nginx.conf")?.content;
    expect(nginx).toContain("set $php_upstream php-fpm:9000;");
    expect(nginx).toContain("resolver 127.0.0.11 ");
  });

  it("uses loopback inside the pod and the pod's own DNS server on Kubernetes, never a fixed name", async () => {
    const topology = await drupalTopology({});
    const { objects } = renderKubernetes(topology, options(topology));
    const configMap = objects.find((object) => object.kind === "ConfigMap") as {
      data: Record<string, string>;
    };
    const nginx = configMap.data["nginx.conf"];
    expect(nginx).toContain("set $php_upstream 127.0.0.1:9000;");
    // Filled in at start from /etc/resolv.conf by the pod's init container.
    expect(nginx).toContain("resolver @@dns-resolver@@ ");
    expect(nginx).not.toContain("kube-dns");
    const web = objects.find(
      (object) => object.kind === "Deployment" && object.metadata?.name === "web",
    ) as V1Deployment;
    const pod = web.spec?.template.spec;
    const [init] = pod?.initContainers ?? [];
    expect(init?.command?.slice(3)).toEqual(["resolve-dns", "nginx.conf"]);
    expect(init?.command?.[2]).toContain("/etc/resolv.conf");
    expect(init?.securityContext?.runAsUser).toBe(
      pod?.containers.find((container) => container.name === "web")?.securityContext?.runAsUser,
    );
    expect(pod?.volumes).toContainEqual({ name: "dns-resolved", emptyDir: {} });
    expect(
      pod?.containers
        .find((container) => container.name === "web")
        ?.volumeMounts?.find((mount) => mount.subPath === "nginx.conf"),
    ).toMatchObject({ name: "dns-resolved", mountPath: "/etc/nginx/conf.d/default.conf" });
    expect(topology.podGroups).toEqual({ web: ["web", "php-fpm"] });
  });
});
