import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadKindTemplate } from "../../../src/backends/kube/kind-config.js";
import { loadMinikubeProfile } from "../../../src/backends/kube/minikube-cluster.js";
import type { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { loadComposeBase } from "../../../src/topology/compose-base.js";
import { renderCompose } from "../../../src/topology/render-compose.js";
import { drupalTopology } from "../../support/drupal-topology.js";

// compose/ and kind/ at the top level hold the data each backend starts from: read as
// shipped, and a broken edit refused with the file named.

async function broken(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-base-"));
  const file = path.join(dir, "broken.yml");
  await writeFile(file, text);
  return file;
}

describe("the backends' own data files", () => {
  it("compose/base.yml gives every rendered service its defaults and the network its driver", async () => {
    const base = await loadComposeBase();
    const { document } = renderCompose(await drupalTopology(), { configDir: "/x", base });
    expect(document.version).toBe("2.4");
    expect(document.networks.default).toMatchObject({ driver: "bridge" });
    for (const service of Object.values(document.services)) {
      expect(service).toMatchObject({
        logging: { driver: "json-file", options: { "max-size": "10m" } },
        stop_grace_period: "10s",
      });
    }
  });

  it("refuses a broken base, template or profile, naming the file", async () => {
    for (const load of [loadComposeBase, loadKindTemplate, loadMinikubeProfile]) {
      const file = await broken("version: [1]\nkind: Nope\n");
      const error = (await load(file).catch((caught: unknown) => caught)) as ProdlikeError;
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toContain(file);
    }
  });

  it("reads kind/minikube.yaml as minikube start's own settings", async () => {
    expect(await loadMinikubeProfile()).toEqual({
      driver: "docker",
      wait: ["apiserver", "system_pods", "default_sa"],
    });
  });
});
