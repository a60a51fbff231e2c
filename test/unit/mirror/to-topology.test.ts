import { describe, expect, it } from "vitest";
import type { ManifestObject } from "../../../src/mirror/manifests.js";
import { mirrorToTopology } from "../../../src/mirror/to-topology.js";
import { loadComposeBase } from "../../../src/topology/compose-base.js";
import { renderCompose } from "../../../src/topology/render-compose.js";

const base = await loadComposeBase();

const objects: ManifestObject[] = [
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "nginx" },
    data: { "default.conf": "server {}" },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db" },
    stringData: { password: "local-pw" },
  },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          initContainers: [{ name: "migrate", image: "php:1", command: ["php", "migrate.php"] }],
          containers: [
            {
              name: "nginx",
              image: "nginx:1",
              ports: [{ containerPort: 80 }],
              volumeMounts: [{ name: "conf", mountPath: "/etc/nginx/conf.d" }],
            },
            {
              name: "php",
              image: "php:1",
              env: [
                { name: "DB_HOST", value: "db" },
                {
                  name: "DB_PASSWORD",
                  valueFrom: { secretKeyRef: { name: "db", key: "password" } },
                },
                { name: "MISSING", valueFrom: { configMapKeyRef: { name: "nope", key: "x" } } },
              ],
              volumeMounts: [{ name: "files", mountPath: "/srv/files" }],
            },
          ],
          volumes: [
            { name: "conf", configMap: { name: "nginx" } },
            { name: "files", persistentVolumeClaim: { claimName: "files" } },
          ],
        },
      },
    },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "shop" },
    spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 80 }] },
  },
  {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "cron" },
    spec: {
      schedule: "*/5 * * * *",
      jobTemplate: {
        spec: {
          template: {
            spec: { containers: [{ name: "cron", image: "php:1", command: ["php", "cron.php"] }] },
          },
        },
      },
    },
  },
];

describe("mirrorToTopology, rendered by the one compose renderer", () => {
  const imported = mirrorToTopology(objects, {
    identity: { project: "shop", name: "local", id: "shop-local" },
    preset: "drupal",
    codeRoot: "/code",
    codeMountPath: "/var/www/html",
    webHostPort: 8080,
  });
  const { topology } = imported;
  const result = renderCompose(topology, { configDir: "/files", base }).document;

  it("makes a pod's first container its service, the others share its network", () => {
    expect(Object.keys(result.services).sort()).toEqual([
      "cron",
      "web",
      "web-init-migrate",
      "web-php",
    ]);
    expect(result.services.web).toMatchObject({
      image: "nginx:1",
      networks: { default: { aliases: ["shop"] } },
      depends_on: { "web-init-migrate": { condition: "service_completed_successfully" } },
      ports: ["127.0.0.1:8080:80"],
    });
    expect(result.services["web-php"]).toMatchObject({ network_mode: "service:web" });
    expect(result.services["web-php"]).not.toHaveProperty("networks");
    expect(result.services["web-init-migrate"]).toMatchObject({
      restart: "no",
      entrypoint: ["php", "migrate.php"],
      labels: { "dev.prodlike.mirror.init": "true" },
    });
    expect(result.services.web?.labels).not.toHaveProperty("dev.prodlike.mirror.init");
    expect(result.services.web?.labels).toMatchObject({
      "dev.prodlike.env": "shop-local",
      "dev.prodlike.mirror.workload": "Deployment/web",
      "dev.prodlike.mirror.container": "nginx",
    });
    expect(imported.web).toEqual({ service: "web", port: 80 });
    expect(topology.podGroups).toEqual({ web: ["web", "web-php"], cron: ["cron"] });
    expect(topology.manifests).toBe(objects);
  });

  it("resolves ConfigMap and Secret values into environment and read-only files", () => {
    expect(result.services["web-php"]?.environment).toEqual({
      DB_HOST: "db",
      DB_PASSWORD: "local-pw",
      MISSING: "",
    });
    expect(imported.adaptations.map((a) => a.detail)).toContain(
      "php: MISSING refers to configmap nope/x, which the manifests do not define: left empty",
    );
    expect(topology.configFiles).toEqual([
      { name: "configmap-nginx/default.conf", content: "server {}" },
    ]);
    expect(result.services.web?.volumes).toEqual(["/files/configmap-nginx:/etc/nginx/conf.d:ro"]);
    expect(result.services["web-php"]?.volumes).toEqual(["files:/srv/files"]);
    expect(Object.keys(result.volumes ?? {})).toEqual(["files"]);
    // The local secret value is redacted from every log line like a preset's.
    expect(topology.secrets).toEqual(["local-pw"]);
  });

  it("runs a CronJob as a loop in the job's container, the job as its arguments", () => {
    const cron = result.services.cron as { entrypoint: string[]; command: string[] };
    expect(cron.entrypoint.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(cron.entrypoint.slice(3)).toEqual(["prodlike-cron", "*/5 * * * *"]);
    expect(cron.command).toEqual(["php", "cron.php"]);
  });

  it("writes `$` doubled, so compose never interpolates the loop's script", () => {
    const yaml = renderCompose(topology, { configDir: "/files", base }).yaml;
    expect(yaml).toContain("schedule=$$1; shift");
    expect(yaml).not.toMatch(/[^$]\$1;/);
    expect(yaml).toContain('restart: "no"');
  });
});

describe("the database of a mirrored layout", () => {
  it("is the container told its database as prodlike's database work asks (MARIADB_DATABASE)", () => {
    const db = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db" },
      spec: {
        template: {
          spec: {
            initContainers: [
              { name: "wait", image: "busybox", env: [{ name: "MARIADB_DATABASE", value: "x" }] },
            ],
            containers: [
              {
                name: "mariadb",
                image: "mariadb:11.8",
                env: [{ name: "MARIADB_DATABASE", value: "shop" }],
              },
            ],
          },
        },
      },
    } as unknown as ManifestObject;
    const { topology } = mirrorToTopology([...objects, db], {
      identity: { project: "shop", name: "local", id: "shop-local" },
      preset: "drupal",
      codeRoot: "/code",
      codeMountPath: "/var/www/html",
      webHostPort: 8080,
    });
    const roles = Object.fromEntries(
      topology.services.map((service) => [service.name, service.role]),
    );
    // Snapshots before a release, import and pull find it; an init container never is one.
    expect(roles.db).toBe("db");
    expect(Object.entries(roles).filter(([, role]) => role === "db")).toEqual([["db", "db"]]);
  });
});
