import type { KubernetesObject, V1Namespace } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  deleteExpired,
  isExpired,
  listTeamNamespaces,
  teamNamespaceOf,
} from "../../../../src/backends/kube/team-namespaces.js";
import { FakeKubeApi } from "../../../support/fake-cluster.js";

// Team environments are read from their namespaces' labels alone; gc deletes only ones
// prodlike labelled, whose lifetime is over, not kept, read again just before.

const NOW = Date.parse("2026-12-03T12:00:00Z");
const seconds = (iso: string) => String(Date.parse(iso) / 1000);

function namespace(name: string, labels: Record<string, string>): V1Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

const ours = (name: string, extra: Record<string, string> = {}) =>
  namespace(name, {
    "app.kubernetes.io/managed-by": "prodlike",
    "prodlike.dev/env": `shop-${name}`,
    "prodlike.dev/owner": "ann.box",
    "prodlike.dev/project": "shop",
    "prodlike.dev/preset": "drupal",
    ...extra,
  });

// An API holding namespaces, recording deletions.
class NamespaceApi extends FakeKubeApi {
  constructor(readonly namespaces: Map<string, V1Namespace>) {
    super();
  }
  override async list(): Promise<KubernetesObject[]> {
    return [...this.namespaces.values()].filter(
      (item) => item.metadata?.labels?.["app.kubernetes.io/managed-by"] === "prodlike",
    );
  }
  override async read<T extends KubernetesObject>(
    _apiVersion: string,
    _kind: string,
    _namespace: string,
    name: string,
  ): Promise<T | undefined> {
    return this.namespaces.get(name) as T | undefined;
  }
  override async remove(_apiVersion: string, kind: string, _namespace: string, name: string) {
    this.removed.push(`${kind}/${name}`);
    return this.namespaces.delete(name);
  }
}

describe("team namespaces", () => {
  it("are only those prodlike labelled for an environment and an owner", () => {
    expect(teamNamespaceOf(namespace("prodlike-shop-qa", {}), "team")).toBeUndefined();
    expect(
      teamNamespaceOf(
        namespace("prodlike-shop-qa", { "app.kubernetes.io/managed-by": "prodlike" }),
        "team",
      ),
    ).toBeUndefined();
    expect(
      teamNamespaceOf(
        ours("qa", { "prodlike.dev/expires": seconds("2026-12-03T10:00:00Z") }),
        "team",
      ),
    ).toMatchObject({
      context: "team",
      namespace: "qa",
      env: "shop-qa",
      owner: "ann.box",
      preset: "drupal",
      expiresAt: "2026-12-03T10:00:00.000Z",
      kept: false,
      terminating: false,
    });
  });

  it("expire when the label's time has passed, unless kept or already going", () => {
    const at = (labels: Record<string, string>, deleting = false) => {
      const object = ours("qa", labels);
      if (deleting && object.metadata) object.metadata.deletionTimestamp = new Date(NOW);
      const found = teamNamespaceOf(object, "team");
      if (!found) throw new Error("not ours");
      return isExpired(found, NOW);
    };
    expect(at({ "prodlike.dev/expires": seconds("2026-12-03T11:00:00Z") })).toBe(true);
    expect(at({ "prodlike.dev/expires": seconds("2026-12-03T13:00:00Z") })).toBe(false);
    expect(at({})).toBe(false);
    expect(
      at({ "prodlike.dev/expires": seconds("2026-12-03T11:00:00Z"), "prodlike.dev/kept": "true" }),
    ).toBe(false);
    expect(at({ "prodlike.dev/expires": seconds("2026-12-03T11:00:00Z") }, true)).toBe(false);
  });

  it("are deleted only when still expired when read again", async () => {
    const expired = { "prodlike.dev/expires": seconds("2026-12-03T11:00:00Z") };
    const api = new NamespaceApi(
      new Map([
        ["gone", ours("gone", expired)],
        ["renewed", ours("renewed", expired)],
        [
          "foreign",
          namespace("foreign", { "prodlike.dev/expires": expired["prodlike.dev/expires"] }),
        ],
      ]),
    );
    const listed = await listTeamNamespaces(api, "team");
    expect(listed.map((found) => found.namespace)).toEqual(["gone", "renewed"]);
    // Its owner gave it more time after the listing.
    api.namespaces.set(
      "renewed",
      ours("renewed", { "prodlike.dev/expires": seconds("2026-12-04T00:00:00Z") }),
    );
    const results = await Promise.all(listed.map((found) => deleteExpired(api, found, NOW)));
    expect(results).toEqual([true, false]);
    expect(api.removed).toEqual(["Namespace/gone"]);
    expect([...api.namespaces.keys()].sort()).toEqual(["foreign", "renewed"]);
  });
});
