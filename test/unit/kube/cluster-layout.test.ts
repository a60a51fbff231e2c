import { describe, expect, it } from "vitest";
import { type ClusterLayoutOptions, mirrorToCluster } from "../../../src/kube/cluster-layout.js";
import { CODE_VOLUME, podSpecOf } from "../../../src/kube/pods.js";
import type { ManifestObject } from "../../../src/mirror/manifests.js";
import { validateKubeObject } from "../../support/kube-schemas.js";
import { mirroredFixture } from "../../support/mirrored-fixture.js";

// The mirrored shop (the EKS-shaped fixture after the local transforms) as a kind or
// minikube cluster applies it: checked against the Kubernetes schemas, offline.

const LOCAL_PHP = "prodlike/drupal-php-fpm:abc123";
const mirroredShop = () =>
  mirroredFixture("shop.yaml", { "registry.example.com/shop/php": LOCAL_PHP }, ["web", "php-fpm"]);

const options: ClusterLayoutOptions = {
  labels: { "prodlike.dev/env": "shop-local", "app.kubernetes.io/managed-by": "prodlike" },
  defaultNamespace: "shop",
  nodeCodePath: "/kind/code",
  localImages: new Set([LOCAL_PHP]),
  webNodePort: 30080,
  roleLabel: "prodlike.dev/role",
  rolesAnnotation: "prodlike.dev/roles",
  configHashAnnotation: "prodlike.dev/config-hash",
};

const find = (objects: readonly ManifestObject[], kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
};

describe("mirrorToCluster", () => {
  it("gives objects the Kubernetes schemas accept, in apply order, in production's namespace", async () => {
    const layout = mirrorToCluster(await mirroredShop(), options);
    expect(layout.namespace).toBe("shop-prod");
    for (const object of layout.objects) validateKubeObject(object);
    expect(layout.objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      "Namespace/shop-prod",
      "ServiceAccount/shop",
      "Secret/shop-secrets",
      "ConfigMap/shop-config",
      "PersistentVolumeClaim/files",
      "Service/web",
      "Service/mariadb",
      "Service/prodlike-web",
      "NetworkPolicy/mariadb-from-web",
      "StatefulSet/mariadb",
      "Deployment/web",
      "CronJob/drush-cron",
      "Ingress/shop",
    ]);
    expect(
      layout.objects.every(
        (object) => object.kind === "Namespace" || object.metadata.namespace === "shop-prod",
      ),
    ).toBe(true);
  });

  it("labels every object and pod for the environment, leaving production's selectors alone", async () => {
    const layout = mirrorToCluster(await mirroredShop(), options);
    for (const object of layout.objects)
      expect(object.metadata.labels).toMatchObject(options.labels);
    const web = find(layout.objects, "Deployment", "web") as ManifestObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string>; annotations: Record<string, string> };
        };
      };
    };
    expect(web.spec.selector.matchLabels).toEqual({ app: "web" });
    expect(web.spec.template.metadata.labels).toMatchObject({
      app: "web",
      "prodlike.dev/env": "shop-local",
      "prodlike.dev/role": "mirror",
    });
    expect(web.spec.template.metadata.annotations["prodlike.dev/config-hash"]).toBe(
      layout.configHash,
    );
  });

  it("publishes the web entry through a NodePort Service on the port the cluster maps", async () => {
    const layout = mirrorToCluster(await mirroredShop(), options);
    expect(find(layout.objects, "Service", "prodlike-web").spec).toEqual({
      type: "NodePort",
      selector: { app: "web" },
      ports: [{ name: "web", port: 80, targetPort: "http", nodePort: 30080 }],
    });
    // The named target port resolves to the container that listens on it.
    expect(layout.web).toEqual({ container: "web", containerPort: 80 });
    expect(layout.adaptations).toContainEqual(
      expect.objectContaining({ kind: "Ingress", name: "shop" }),
    );
  });

  it("mounts the node's copy of the code and never pulls an image loaded from this machine", async () => {
    const layout = mirrorToCluster(await mirroredShop(), options);
    const pod = podSpecOf(find(layout.objects, "Deployment", "web")) as {
      volumes: { name: string; hostPath?: { path: string } }[];
      containers: { name: string; image: string; imagePullPolicy?: string }[];
    };
    expect(pod.volumes.find((volume) => volume.name === CODE_VOLUME)?.hostPath?.path).toBe(
      "/kind/code",
    );
    const php = pod.containers.find((container) => container.name === "php-fpm");
    expect(php).toMatchObject({ image: LOCAL_PHP, imagePullPolicy: "IfNotPresent" });
    const nginx = pod.containers.find((container) => container.name === "web");
    expect(nginx?.imagePullPolicy).toBeUndefined();
    expect(layout.images.load).toEqual([LOCAL_PHP]);
    expect(layout.images.all).toContain(nginx?.image);
  });

  it("is pure, and a changed ConfigMap changes the hash the pods carry", async () => {
    const objects = await mirroredShop();
    expect(mirrorToCluster(objects, options).yaml).toBe(mirrorToCluster(objects, options).yaml);
    const changed = structuredClone(objects);
    (
      find(changed, "ConfigMap", "shop-config") as unknown as { data: Record<string, string> }
    ).data.APP_ENV = "dev";
    expect(mirrorToCluster(changed, options).configHash).not.toBe(
      mirrorToCluster(objects, options).configHash,
    );
  });

  it("gathers objects of several namespaces into one, each move noted; none named: the default", async () => {
    const objects: ManifestObject[] = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "shop" }, data: {} },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "b", namespace: "monitoring" },
        data: {},
      },
    ];
    const layout = mirrorToCluster(objects, options);
    expect(layout.namespace).toBe("shop");
    expect(layout.adaptations).toEqual([
      { kind: "ConfigMap", name: "b", detail: "moved from namespace monitoring into shop" },
    ]);
    const bare = mirrorToCluster(
      [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }],
      options,
    );
    expect(bare.namespace).toBe("shop");
    expect(bare.web).toBeUndefined();
  });
});

describe("the database of a mirrored layout on a cluster", () => {
  it("is named in its pod's roles annotation, the other pods keep the mirror role only", async () => {
    const objects = await mirroredFixture("roundtrip.yaml", {}, ["nginx", "php-fpm"]);
    const layout = mirrorToCluster(objects, options);
    const template = (object: ManifestObject) =>
      (
        object as unknown as {
          spec: { template: { metadata: { annotations?: Record<string, string> } } };
        }
      ).spec.template.metadata;
    expect(template(find(layout.objects, "StatefulSet", "db")).annotations).toMatchObject({
      "prodlike.dev/roles": "mariadb=db",
    });
    expect(template(find(layout.objects, "Deployment", "web")).annotations).not.toHaveProperty(
      "prodlike.dev/roles",
    );
  });
});
