import { describe, expect, it } from "vitest";
import { splitImage } from "../../../src/kube/image-ref.js";
import type { ManifestObject } from "../../../src/mirror/manifests.js";
import { compareWorkloads } from "../../../src/parity/compare.js";
import { workloadViews } from "../../../src/parity/workload-view.js";

const deployment = (containers: Record<string, unknown>[], name = "web"): ManifestObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    template: { spec: { containers, volumes: [{ name: "conf", configMap: { name: "nginx" } }] } },
  },
});

const php = {
  name: "php",
  image: "registry.example.com/shop/php:1.2",
  env: [
    { name: "DB_HOST", value: "db" },
    { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "shop", key: "db-password" } } },
  ],
  ports: [{ containerPort: 9000 }],
  readinessProbe: { tcpSocket: { port: 9000 } },
  volumeMounts: [{ name: "conf", mountPath: "/etc/nginx/conf.d" }],
};

describe("workload views", () => {
  it("read env names and the config keys they come from, never values", () => {
    const [view] = workloadViews([deployment([php])]);
    expect(view?.containers[0]).toMatchObject({
      repository: "registry.example.com/shop/php",
      tag: "1.2",
      envNames: ["DB_HOST", "DB_PASSWORD"],
      configKeys: ["configmap/nginx@/etc/nginx/conf.d", "secret/shop:db-password"],
      probes: ["readiness tcp :9000"],
      ports: ["9000/TCP"],
    });
    expect(JSON.stringify(view)).not.toContain('"db"');
  });

  it("split image references with registries, ports, digests and no tag", () => {
    expect(splitImage("registry:5000/a/b:1.0")).toEqual({
      repository: "registry:5000/a/b",
      tag: "1.0",
    });
    expect(splitImage("nginx")).toEqual({ repository: "nginx", tag: "latest" });
    expect(splitImage("a/b@sha256:abc")).toEqual({ repository: "a/b", tag: "sha256:abc" });
    expect(splitImage("a/b:1.0@sha256:abc")).toEqual({ repository: "a/b", tag: "sha256:abc" });
  });
});

describe("compareWorkloads", () => {
  const none = { transforms: [], policy: [] };

  it("finds nothing between identical workloads", () => {
    expect(
      compareWorkloads(
        workloadViews([deployment([php])]),
        workloadViews([deployment([php])]),
        none,
      ),
    ).toEqual([]);
  });

  it("classifies an image change made by the images transform as expected, others not", () => {
    const local = deployment([
      { ...php, image: "prodlike/php:dev", env: [{ name: "DB_HOSTNAME", value: "db" }] },
    ]);
    const differences = compareWorkloads(
      workloadViews([deployment([php])]),
      workloadViews([local]),
      {
        transforms: [
          {
            transform: "images",
            kind: "Deployment",
            name: "web",
            container: "php",
            detail: "php -> prodlike/php:dev",
          },
        ],
        policy: [],
      },
    );
    expect(differences.map((d) => `${d.field}:${d.expected}`)).toEqual([
      "image-repository:true",
      "image-tag:true",
      "env-names:false",
      "config-keys:false",
    ]);
    expect(differences[0]?.because).toBe("transform images: php -> prodlike/php:dev");
  });

  it("reports missing and extra containers and workloads; a policy rule makes one expected", () => {
    const production = workloadViews([
      deployment([php, { name: "newrelic", image: "newrelic/php-daemon:10" }]),
      deployment([php], "worker"),
    ]);
    const local = workloadViews([
      deployment([php, { name: "xdebug-proxy", image: "x:1" }]),
      deployment([php], "mailhog"),
    ]);
    const differences = compareWorkloads(production, local, {
      transforms: [],
      policy: [
        { container: "newrelic", field: "container-missing", reason: "APM only in production" },
      ],
    });
    expect(
      differences.map((d) => `${d.workload}/${d.container ?? "-"}:${d.field}:${d.expected}`),
    ).toEqual([
      "web/newrelic:container-missing:true",
      "web/xdebug-proxy:container-extra:false",
      "worker/-:workload-missing:false",
      "mailhog/-:workload-extra:false",
    ]);
  });
});
