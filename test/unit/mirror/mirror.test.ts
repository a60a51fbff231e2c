import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { TransformId } from "../../../src/config/vocabulary.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { podSpecOf } from "../../../src/kube/pods.js";
import { takeInventory } from "../../../src/mirror/inventory.js";
import { parseManifests, readManifests } from "../../../src/mirror/manifests.js";
import {
  applyTransforms,
  type MirrorOptions,
  scaleQuantity,
} from "../../../src/mirror/transforms.js";
import { FakeRunner } from "../../support/fake-runner.js";

const fixture = (file: string) =>
  fileURLToPath(new URL(`../../fixtures/manifests/${file}`, import.meta.url));
const golden = (file: string) =>
  fileURLToPath(new URL(`../../fixtures/golden/${file}`, import.meta.url));

const options = (overrides: Partial<MirrorOptions> = {}): MirrorOptions => ({
  envName: "local",
  project: "shop",
  disabled: new Set<TransformId>(),
  resourceScale: 0.25,
  images: { "registry.example.com/shop/php": "prodlike/drupal-php-fpm:abc123" },
  secrets: { "shop-secrets": { API_KEY: "local-api-key" } },
  localSecret: (secret, key) => `local-${secret}-${key}`,
  storageClass: undefined,
  codeMount: { path: "/var/www/html", containers: ["web", "php-fpm", "cli"] },
  ...overrides,
});

async function shop() {
  const deps = { runner: new FakeRunner(), readStdin: async () => "" };
  return takeInventory(await readManifests(fixture("shop.yaml"), deps));
}

function errorOf(work: () => unknown): ProdlikeError {
  try {
    work();
  } catch (error) {
    if (error instanceof ProdlikeError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("reading production's manifests", () => {
  it("names the file, the document and the line of YAML that does not parse", () => {
    const error = errorOf(() =>
      parseManifests(
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n---\nkind: [\n",
        "prod.yaml",
      ),
    );
    expect(error.code).toBe("MANIFEST_INVALID");
    expect(error.message).toMatch(/^prod\.yaml, document 2 \(line \d\): not valid YAML/);
  });

  it("refuses a document without kind, an unknown apiVersion and a nameless object", () => {
    expect(
      errorOf(() => parseManifests("apiVersion: v1\nmetadata: {name: a}\n", "a.yaml")).message,
    ).toBe("a.yaml, document 1 (line 1): `kind` is missing");
    const old = errorOf(() =>
      parseManifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: shop}\n",
        "b.yaml",
      ),
    );
    expect(old.message).toBe(
      "b.yaml, document 2 (line 5): unknown apiVersion `extensions/v1beta1` for Ingress",
    );
    expect(old.hint).toContain("networking.k8s.io/v1");
    expect(errorOf(() => parseManifests("apiVersion: v1\nkind: Service\n", "c.yaml")).message).toBe(
      "c.yaml, document 1 (line 1): Service has no `metadata.name`",
    );
  });

  it("reads a folder of files in name order, and unpacks a List", async () => {
    const deps = { runner: new FakeRunner(), readStdin: async () => "" };
    const documents = await readManifests(fixture("folder"), deps);
    expect(documents.map((d) => `${d.object.kind}/${d.object.metadata.name}`)).toEqual([
      "StatefulSet/mariadb",
      "Service/mariadb",
      "Deployment/web",
      "Service/web",
    ]);
    const list = parseManifests(
      "apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n",
      "list.yaml",
    );
    expect(list.map((d) => d.object.metadata.name)).toEqual(["a", "b"]);
  });

  it("renders a kustomize folder with kubectl, and says so clearly when kubectl is missing", async () => {
    const missing = await readManifests(fixture("kustomize/overlays/production"), {
      runner: new FakeRunner(),
      readStdin: async () => "",
    }).catch((error: unknown) => error);
    expect((missing as ProdlikeError).code).toBe("TOOL_MISSING");
    expect((missing as ProdlikeError).hint).toContain(
      "kubectl kustomize DIR | prodlike mirror --from -",
    );

    const rendered = await readFile(fixture("kustomize/base/web.yaml"), "utf8");
    const runner = new FakeRunner().on(
      `kubectl kustomize ${fixture("kustomize/overlays/production")}`,
      { stdout: rendered },
    );
    const documents = await readManifests(fixture("kustomize/overlays/production"), {
      runner,
      readStdin: async () => "",
    });
    expect(documents[0]?.source).toBe(`kustomize ${fixture("kustomize/overlays/production")}`);
    expect(documents.map((d) => d.object.kind)).toEqual(["Deployment", "Service"]);
  });
});

describe("the inventory", () => {
  it("lists DaemonSets and unknown kinds as skipped, with where they came from", async () => {
    const { skipped } = await shop();
    expect(skipped.map((entry) => `${entry.kind}/${entry.name}#${entry.index}`)).toEqual([
      "DaemonSet/fluent-bit#14",
      "Certificate/shop-tls#15",
    ]);
  });

  it("drops every production secret value at the door, keeping the keys", async () => {
    const { documents } = await shop();
    const text = JSON.stringify(documents);
    expect(text).not.toContain("cHJvZC1kYi1wYXNzd29yZC1kbzEtbm90LWxlYWs=");
    expect(text).not.toContain("c2tfbGl2ZV9wcm9kdWN0aW9uX2tleQ==");
    const secret = documents.find((d) => d.object.kind === "Secret")?.object;
    expect(secret?.stringData).toEqual({ API_KEY: "", DB_PASSWORD: "" });
    expect(secret).not.toHaveProperty("data");
  });
});

describe("the local transforms", () => {
  it("turn the shop fixture into the golden local manifests, each change listed", async () => {
    const { documents } = await shop();
    const { objects, applied } = applyTransforms(
      documents.map((document) => document.object),
      options(),
    );
    const yaml = objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
    const report = `${JSON.stringify(applied, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === "1") {
      await writeFile(golden("mirror-shop.yaml"), yaml);
      await writeFile(golden("mirror-shop-transforms.json"), report);
    }
    expect(yaml).toBe(await readFile(golden("mirror-shop.yaml"), "utf8"));
    expect(report).toBe(await readFile(golden("mirror-shop-transforms.json"), "utf8"));
    // Init containers and sidecars are kept.
    const web = objects.find((object) => object.kind === "Deployment");
    if (!web) throw new Error("no Deployment");
    expect(podSpecOf(web)?.containers?.map((c) => c.name)).toEqual(["web", "php-fpm", "newrelic"]);
    expect(podSpecOf(web)?.initContainers?.map((c) => c.name)).toEqual(["copy-code"]);
  });

  it("can each be turned off, leaving production's value", async () => {
    const { documents } = await shop();
    const { objects, applied } = applyTransforms(
      documents.map((document) => document.object),
      options({ disabled: new Set<TransformId>(["replicas", "autoscaling", "ingress-hosts"]) }),
    );
    const web = objects.find((object) => object.kind === "Deployment");
    expect((web?.spec as { replicas?: number } | undefined)?.replicas).toBe(4);
    expect(objects.some((object) => object.kind === "HorizontalPodAutoscaler")).toBe(true);
    expect(JSON.stringify(objects)).toContain("shop.example.com");
    expect(applied.map((entry) => entry.transform)).not.toContain("replicas");
  });

  it("scale quantities with floors a container still starts with", () => {
    expect(scaleQuantity("2", 0.25, "cpu")).toBe("500m");
    expect(scaleQuantity("100m", 0.25, "cpu")).toBe("25m");
    expect(scaleQuantity("20m", 0.25, "cpu")).toBe("10m");
    expect(scaleQuantity("4Gi", 0.25, "memory")).toBe("1024Mi");
    expect(scaleQuantity("64Mi", 0.25, "memory")).toBe("32Mi");
    expect(scaleQuantity("1G", 0.5, "memory")).toBe("477Mi");
    expect(scaleQuantity("10", 0.5, "ephemeral-storage")).toBeUndefined();
  });
});
