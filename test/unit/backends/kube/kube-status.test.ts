import { describe, expect, it } from "vitest";
import type { PodInfo } from "../../../../src/backends/kube/kube-api.js";
import { statusOf } from "../../../../src/backends/kube/kube-status.js";
import type { EnvironmentRecord } from "../../../../src/env/environment-records.js";

// A cluster environment's status from its pods: services by container, each with its own
// role (not the pod's joined one), and pods being deleted shown as what they are.

const record: EnvironmentRecord = {
  id: "shop-local",
  project: "shop",
  name: "local",
  backend: "kind",
  preset: "drupal",
  codeRoot: "/code",
  cluster: "prodlike-shop-local",
  kubeconfig: "/code/.prodlike/local/kubeconfig",
  context: "kind-prodlike-shop-local",
  namespace: "shop",
  ports: [],
  loadedImages: [],
  configHash: "h",
  createdAt: "2026-12-03T00:00:00Z",
};

function webPod(overrides: Partial<PodInfo> = {}): PodInfo {
  return {
    name: "web-7d9-abcde",
    uid: "u1",
    labels: { "prodlike.dev/role": "web-php" },
    annotations: { "prodlike.dev/roles": "web=web,php-fpm=php" },
    terminating: false,
    phase: "Running",
    containers: [
      { name: "web", ready: true, state: "running", restarts: 0 },
      { name: "php-fpm", ready: true, state: "running", restarts: 0 },
    ],
    ...overrides,
  };
}

describe("statusOf", () => {
  it("gives each container of a shared pod its own role (php-fpm is `php`)", () => {
    const status = statusOf(record, [webPod()]);
    expect(status.services.map((service) => [service.name, service.role])).toEqual([
      ["php-fpm", "php"],
      ["web", "web"],
    ]);
    expect(status.state).toBe("running");
  });

  it("falls back to the pod's role label without the annotation (a mirror's pods)", () => {
    const status = statusOf(record, [webPod({ annotations: {} })]);
    expect(status.services.map((service) => service.role)).toEqual(["web-php", "web-php"]);
  });

  it("never calls a pod that is being deleted healthy", () => {
    const status = statusOf(record, [webPod({ terminating: true })]);
    expect(status.services.map((service) => [service.state, service.health])).toEqual([
      ["terminating", "stopping"],
      ["terminating", "stopping"],
    ]);
    expect(status.state).toBe("partial");
  });
});
