import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { configSchema } from "../../../src/config/schema.js";
import {
  clusterPlacement,
  defaultNamespace,
  ownerLabel,
} from "../../../src/core/cluster-placement.js";
import type { Target } from "../../../src/core/plan.js";
import type { CoreServices } from "../../../src/core/services.js";
import { stateStores } from "../../../src/core/state-stores.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { FakeClock } from "../../support/fake-clock.js";

// Where an environment goes on an existing cluster: the context and namespace, and never
// a context production is read from (db pull's, or one of the same API server).

describe("cluster placement", () => {
  const folders: string[] = [];
  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  async function setup(cluster: Record<string, unknown>) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "placement-"));
    folders.push(dir);
    const kubeconfigPath = path.join(dir, "kubeconfig");
    await writeFile(
      kubeconfigPath,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "dev",
        clusters: [
          { name: "dev-cluster", cluster: { server: "https://dev.example:6443" } },
          { name: "prod-cluster", cluster: { server: "https://prod.example:6443" } },
        ],
        contexts: [
          { name: "dev", context: { cluster: "dev-cluster" } },
          { name: "prod", context: { cluster: "prod-cluster" } },
          { name: "prod-admin", context: { cluster: "prod-cluster" } },
        ],
      }),
    );
    const env = { PRODLIKE_HOME: path.join(dir, "home") };
    const services = {
      env,
      kubeconfigPath,
      clock: new FakeClock(),
      stores: stateStores(env),
    } as unknown as CoreServices;
    const config = configSchema.parse({
      name: "shop",
      preset: "drupal",
      cluster,
      pull: {
        sources: {
          live: {
            kubectl: { context: "prod", target: "statefulset/mariadb" },
            database: { name: "shop" },
          },
        },
      },
    });
    const target = {
      identity: { project: "shop", name: "local", id: "shop-local" },
      loaded: { codeRoot: dir, config },
    } as unknown as Target;
    return { services, target };
  }

  async function refusal(promise: Promise<unknown>): Promise<ProdlikeError> {
    const error = await promise.then(
      () => new Error("not refused"),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ProdlikeError);
    return error as ProdlikeError;
  }

  it("takes the kubeconfig's current context and prodlike-PROJECT-ENV by default", async () => {
    const { services, target } = await setup({ registry: "registry.dev.example/team" });
    const placement = await clusterPlacement(services, target, {});
    expect(placement).toMatchObject({
      context: "dev",
      namespace: "prodlike-shop-local",
      registry: "registry.dev.example/team",
      code: { mode: "sync", exclude: [] },
    });
    expect((await clusterPlacement(services, target, { ref: "v1.2" })).code).toEqual({
      mode: "bake",
      ref: "v1.2",
    });
  });

  it("refuses production's context, and any context of its API server", async () => {
    for (const context of ["prod", "prod-admin"]) {
      const { services, target } = await setup({ context });
      const error = await refusal(clusterPlacement(services, target, {}));
      expect(error.code).toBe("UNSAFE_TARGET");
      expect(error.hint).toContain("cluster.context");
    }
  });

  it("refuses a context the kubeconfig does not have", async () => {
    const { services, target } = await setup({ context: "staging" });
    const error = await refusal(clusterPlacement(services, target, {}));
    expect(error.code).toBe("CONFIG_INVALID");
  });

  it("names namespaces and owners as Kubernetes allows them", () => {
    expect(defaultNamespace("My_Shop-QA.1")).toBe("prodlike-my-shop-qa-1");
    expect(defaultNamespace("x".repeat(80))).toHaveLength(63);
    expect(ownerLabel("anna maria", "laptop.example.com")).toBe("anna-maria.laptop");
    expect(ownerLabel("-", "-")).toBe("unknown");
  });
});
