import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClusterParts } from "../../../src/backends/kube/cluster-parts.js";
import { KubeBackend } from "../../../src/backends/kube/kube-backend.js";
import { up } from "../../../src/core/operations.js";
import { parity } from "../../../src/core/parity.js";
import type { CoreServices } from "../../../src/core/services.js";
import { stateStores } from "../../../src/core/state-stores.js";
import { EnvironmentRecords } from "../../../src/env/environment-records.js";
import { SilentProgress } from "../../../src/ui/plain-progress.js";
import { systemClock } from "../../../src/waits/clock.js";
import { FakeClusterProvider, FakeKubeApi } from "../../support/fake-cluster.js";
import { FakeEngine } from "../../support/fake-engine.js";
import { FakeRunner } from "../../support/fake-runner.js";

// `up --mirror --backend kind` and `parity --against running` through the core, on an
// in-memory cluster tool and API server (kind is not on this machine; the real cluster
// test is in test/integration/cluster-mirror.test.ts and runs where kind is installed).

const manifests = fileURLToPath(
  new URL("../../fixtures/manifests/roundtrip.yaml", import.meta.url),
);

let savedHome: string | undefined;
const providers: FakeClusterProvider[] = [];
beforeAll(() => {
  savedHome = process.env.PRODLIKE_HOME;
});
afterAll(async () => {
  if (savedHome === undefined) delete process.env.PRODLIKE_HOME;
  else process.env.PRODLIKE_HOME = savedHome;
  for (const provider of providers) await provider.close();
});

// A port free now, which `up` will find free too and choose.
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function setup() {
  const webPort = await freePort();
  process.env.PRODLIKE_HOME = await mkdtemp(path.join(os.tmpdir(), "prodlike-mirror-home-"));
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-mirror-code-"));
  await writeFile(
    path.join(dir, "prodlike.yaml"),
    [
      "name: shop",
      "backend: kind",
      `ports: { web: ${webPort} }`,
      "mirror:",
      `  from: ${manifests}`,
      "  images: { registry.example.com/rt/php: shop/php:dev }",
      "  codeMount: { path: /var/www/html, containers: [nginx, php-fpm] }",
      "  runtime:",
      '    php-fpm: { php: "8.2", extensions: [intl, redis] }',
      '    db/mariadb: { db: "mariadb 10.11" }',
      "",
    ].join("\n"),
  );
  const provider = new FakeClusterProvider({ serveHttp: true });
  providers.push(provider);
  const api = new FakeKubeApi();
  const engine = new FakeEngine();
  engine.images.push({ id: "sha256:dev", tags: ["shop/php:dev"], labels: {} });
  const backend = new KubeBackend({
    name: "kind",
    parts: localClusterParts(provider),
    runner: new FakeRunner(),
    engine,
    records: new EnvironmentRecords(process.env.PRODLIKE_HOME),
    clock: systemClock,
    connect: async () => api,
  });
  const services: CoreServices = {
    runner: new FakeRunner(),
    clock: systemClock,
    env: process.env,
    developer: { uid: 1000, gid: 1000 },
    kubeconfigPath: "/nonexistent/kubeconfig",
    productionCluster: async () => {
      throw new Error("production is read from files here");
    },
    kube: async () => {
      throw new Error("no team cluster here");
    },
    engine: async () => engine,
    backend: async (name) => {
      if (name !== "kind") throw new Error(`unexpected backend ${name}`);
      return backend;
    },
    recordedBackend: async () => "kind",
    recordedBackends: async () => ["kind"],
    stores: stateStores(process.env),
  };
  return { dir, api, provider, services, webPort };
}

describe("up --mirror on kind, then parity --against running", () => {
  it("runs production's objects on the cluster and compares what the cluster runs", async () => {
    const { dir, api, provider, services, webPort } = await setup();
    const result = await up(
      services,
      { dir, mirror: true, rebuild: false, healthTimeoutMs: 5_000, lockTimeoutMs: 5_000 },
      new SilentProgress(),
    );
    expect(result.status.backend).toBe("kind");
    expect(result.status.urls.web).toBe(`http://127.0.0.1:${webPort}`);
    expect(provider.calls).toEqual([
      `create prodlike-shop-local ${webPort}:30080`,
      "load prodlike-shop-local shop/php:dev",
    ]);

    // The probe's answers, as Debian's php8.2-fpm and MariaDB print them.
    api.execOutput = {
      "php-fpm": "php=PHP 8.2.32 (fpm-fcgi)\nphp-modules=[PHP Modules],intl,pdo_mysql,,\n",
      mariadb: "db=/usr/sbin/mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu\n",
    };
    const report = await parity(services, { dir, against: "running" });
    const unexpected = report.differences.filter((difference) => !difference.expected);
    // On a cluster ports and probes are compared too; only the redis extension is missing.
    expect(
      unexpected.map(({ workload, container, field, production, local }) => ({
        workload,
        container,
        field,
        production,
        local,
      })),
    ).toEqual([
      {
        workload: "web",
        container: "php-fpm",
        field: "php-extensions-missing",
        production: "redis",
        local: "",
      },
      {
        workload: "web",
        container: "php-fpm",
        field: "php-extensions-extra",
        production: "",
        local: "pdo_mysql",
      },
    ]);
    expect(
      report.differences
        .filter((difference) => difference.expected)
        .map((difference) => difference.field),
    ).toEqual(["image-repository", "image-tag"]);
    expect(api.execs.map((exec) => `${exec.pod}/${exec.container}`).sort()).toEqual([
      "db-0/mariadb",
      "web-0/nginx",
      "web-0/php-fpm",
    ]);

    // A workload edited on the cluster by hand: parity names it.
    const deployment = api.applied.find((object) => object.kind === "Deployment") as unknown as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    const nginx = deployment.spec.template.spec.containers.find((c) => c.name === "nginx");
    if (nginx) nginx.image = "registry.example.com/rt/nginx:1.27.0";
    const drifted = await parity(services, { dir, against: "running" });
    expect(drifted.differences).toContainEqual(
      expect.objectContaining({
        container: "nginx",
        field: "image-tag",
        production: "1.25.3",
        local: "1.27.0",
        expected: false,
      }),
    );
  });
});
