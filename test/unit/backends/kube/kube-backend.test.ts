import { mkdtemp, readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClusterParts } from "../../../../src/backends/kube/cluster-parts.js";
import { KubeBackend } from "../../../../src/backends/kube/kube-backend.js";
import { EnvironmentRecords } from "../../../../src/env/environment-records.js";
import { mirrorToTopology } from "../../../../src/mirror/to-topology.js";
import type { Topology } from "../../../../src/topology/model.js";
import { SilentProgress } from "../../../../src/ui/plain-progress.js";
import { systemClock } from "../../../../src/waits/clock.js";
import { drupalTopology } from "../../../support/drupal-topology.js";
import { FakeClusterProvider, FakeKubeApi } from "../../../support/fake-cluster.js";
import { FakeEngine } from "../../../support/fake-engine.js";
import { FakeRunner } from "../../../support/fake-runner.js";
import { mirroredFixture } from "../../../support/mirrored-fixture.js";

// The cluster backend's own logic (what it creates, loads, applies, waits for, removes)
// against an in-memory cluster tool and API server. The real tools run in the
// integration suite when kind or minikube is installed.

let web: Server;
let webPort = 0;
beforeAll(async () => {
  web = createServer((_request, response) => response.end("ok"));
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webPort = (web.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => web.close(() => resolve())));

async function setup() {
  const home = await mkdtemp(path.join(os.tmpdir(), "prodlike-kube-home-"));
  const codeRoot = await mkdtemp(path.join(os.tmpdir(), "prodlike-kube-code-"));
  const topology: Topology = await drupalTopology({});
  topology.codeRoot = codeRoot;
  for (const service of topology.services) {
    for (const port of service.ports) if (port.name === "web") port.hostPort = webPort;
  }
  const provider = new FakeClusterProvider();
  const api = new FakeKubeApi();
  const engine = new FakeEngine();
  const records = new EnvironmentRecords(home);
  const stdout = new PassThrough();
  const connects: string[] = [];
  const backend = new KubeBackend({
    name: "kind",
    parts: localClusterParts(provider),
    runner: new FakeRunner(),
    engine,
    records,
    clock: systemClock,
    connect: async (kubeconfig, context) => {
      connects.push(`${kubeconfig} ${context}`);
      return api;
    },
    stdio: { stdin: new PassThrough(), stdout, stderr: new PassThrough() },
  });
  return { topology, provider, api, engine, records, backend, stdout, connects, codeRoot };
}

const upOptions = { rebuild: false, healthTimeoutMs: 5_000 };

describe("KubeBackend", () => {
  it("up creates the cluster, loads the images, applies every object and waits", async () => {
    const { topology, provider, api, backend, records, codeRoot, connects } = await setup();
    const result = await backend.up(topology, new SilentProgress(), upOptions);
    expect(result.changed).toBe(true);
    expect(result.status.state).toBe("running");
    expect(result.status.urls.web).toBe(`http://127.0.0.1:${webPort}`);
    expect(provider.calls[0]).toBe(
      `create prodlike-shop-local ${webPort}:30080,13306:30081,18025:30082`,
    );
    expect(provider.calls[1]).toMatch(/^load prodlike-shop-local (prodlike\/\S+ ?){5}$/);
    expect(api.applied.map((object) => `${object.kind}/${object.metadata?.name}`)).toEqual([
      "Namespace/shop",
      "Secret/prodlike-secrets",
      "ConfigMap/prodlike-config",
      "Service/web",
      "Service/php-fpm",
      "Service/db",
      "Service/mail",
      "Deployment/web",
      "Deployment/cli",
      "StatefulSet/db",
      "StatefulSet/mail",
    ]);
    expect(connects[0]).toBe(
      `${path.join(codeRoot, ".prodlike", "local", "kubeconfig")} kind-prodlike-shop-local`,
    );
    const manifests = await stat(path.join(codeRoot, ".prodlike", "local", "manifests.yaml"));
    expect(manifests.mode & 0o777).toBe(0o600);
    const record = await records.get("shop-local");
    expect(record).toMatchObject({ backend: "kind", cluster: "prodlike-shop-local" });
    expect(record?.loadedImages).toHaveLength(5);
    expect(result.status.services.map((service) => service.name)).toEqual([
      "cli",
      "db",
      "mail",
      "php-fpm",
      "web",
    ]);
  });

  it("gives the local router the node's NodePorts for the environment's names", async () => {
    const { topology, backend } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    expect(await backend.routeTargets("shop-local")).toEqual({
      container: "prodlike-shop-local-control-plane",
      network: "kind",
      sites: [
        { host: "local.shop.localhost", dial: "prodlike-shop-local-control-plane:30080" },
        { host: "mail.local.shop.localhost", dial: "prodlike-shop-local-control-plane:30082" },
      ],
    });
    expect(await backend.routeTargets("nobody-here")).toBeUndefined();
  });

  it("a second up on a healthy environment changes nothing", async () => {
    const { topology, provider, api, backend } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    const applied = api.applied.length;
    const again = await backend.up(topology, new SilentProgress(), upOptions);
    expect(again.changed).toBe(false);
    expect(provider.calls).toHaveLength(2);
    expect(api.applied).toHaveLength(applied);
  });

  it("fails fast on a crashing pod and keeps the cluster it just made for diagnosis", async () => {
    const { topology, provider, api, backend, records } = await setup();
    api.crashing = true;
    await expect(backend.up(topology, new SilentProgress(), upOptions)).rejects.toMatchObject({
      code: "ROLLOUT_FAILED",
      hint: expect.stringContaining("CrashLoopBackOff"),
    });
    // `prodlike logs` and `status` still find it; the next up applies again.
    expect(provider.clusters.size).toBe(1);
    expect((await records.get("shop-local"))?.configHash).toBe("");
  });

  it("an up whose new release does not roll out applies the kept manifests again (ROLLED_BACK)", async () => {
    const { topology, api, backend, records, codeRoot } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    const good = await records.get("shop-local");
    const broken = structuredClone(topology);
    for (const service of broken.services) service.env.RELEASE_MARK = "broken";
    api.crashWhen = (workload) => JSON.stringify(workload).includes('"broken"');
    const kept: string[] = [];
    await expect(
      backend.up(broken, new SilentProgress(), {
        ...upOptions,
        beforeSwitch: async () => {
          kept.push("data");
          return {
            snapshot: "before-release-1",
            // Prepared while the new release rolls out; waited for before up returns.
            prepare: async () => {
              await new Promise((resolve) => setTimeout(resolve, 20));
              kept.push("prepared");
            },
          };
        },
      }),
    ).rejects.toMatchObject({
      code: "ROLLED_BACK",
      hint: expect.stringContaining("CrashLoopBackOff"),
    });
    // The data was kept before the switch (its preparation waits for the new database
    // pod, which never ran: the snapshot stays cold), and the workloads run the old
    // templates again.
    expect(kept).toEqual(["data"]);
    expect(JSON.stringify(api.applied)).not.toContain('"broken"');
    expect(api.applied.filter((object) => object.kind === "PersistentVolumeClaim")).toEqual([]);
    expect((await records.get("shop-local"))?.configHash).toBe(good?.configHash);
    const manifests = await readFile(
      path.join(codeRoot, ".prodlike", "local", "manifests.yaml"),
      "utf8",
    );
    expect(manifests).not.toContain("broken");
    // The old release is what runs: the old topology changes nothing.
    expect((await backend.up(topology, new SilentProgress(), upOptions)).changed).toBe(false);
  });

  it("rollback applies the kept release by hand, and a second one goes forward", async () => {
    const { topology, api, backend, records } = await setup();
    await expect(
      backend.rollback("shop-local", new SilentProgress(), upOptions),
    ).rejects.toMatchObject({ code: "ENV_NOT_FOUND" });
    await backend.up(topology, new SilentProgress(), upOptions);
    await expect(
      backend.rollback("shop-local", new SilentProgress(), upOptions),
    ).rejects.toMatchObject({ code: "RELEASE_NOT_FOUND" });
    const first = (await records.get("shop-local"))?.configHash;
    const second = structuredClone(topology);
    for (const service of second.services) service.env.RELEASE_MARK = "two";
    await backend.up(second, new SilentProgress(), {
      ...upOptions,
      beforeSwitch: async () => ({ snapshot: "before-release-1" }),
    });
    const secondHash = (await records.get("shop-local"))?.configHash;
    expect(await backend.previousRelease("shop-local")).toMatchObject({
      configHash: first,
      dataSnapshot: "before-release-1",
    });
    const mark = () =>
      JSON.stringify(api.applied.find((object) => object.kind === "Deployment")).includes('"two"');
    expect(mark()).toBe(true);

    const back = await backend.rollback("shop-local", new SilentProgress(), {
      ...upOptions,
      dataSnapshot: "before-rollback-1",
    });
    expect(back.state).toBe("running");
    expect(mark()).toBe(false);
    expect((await records.get("shop-local"))?.configHash).toBe(first);
    expect(await backend.previousRelease("shop-local")).toMatchObject({
      configHash: secondHash,
      dataSnapshot: "before-rollback-1",
    });
    await backend.rollback("shop-local", new SilentProgress(), upOptions);
    expect(mark()).toBe(true);
    expect((await records.get("shop-local"))?.configHash).toBe(secondHash);
  });

  it("down scales workloads to zero and keeps the cluster; up brings them back", async () => {
    const { topology, provider, api, backend } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    const stopped = await backend.down("shop-local", new SilentProgress());
    expect(stopped.state).toBe("stopped");
    expect(api.patches.map((patch) => `${patch.kind}/${patch.name}`)).toEqual([
      "Deployment/web",
      "Deployment/cli",
      "StatefulSet/db",
      "StatefulSet/mail",
    ]);
    expect(api.patches[0]?.patch).toEqual({ spec: { replicas: 0 } });
    const restarted = await backend.up(topology, new SilentProgress(), upOptions);
    expect(restarted.changed).toBe(true);
    expect(restarted.status.state).toBe("running");
    expect(provider.calls.filter((call) => call.startsWith("create"))).toHaveLength(1);
  });

  it("destroy deletes the cluster, the images only it used and its files", async () => {
    const { topology, provider, engine, backend, records, codeRoot } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    expect(engine.images).toHaveLength(5);
    const report = await backend.destroy("shop-local", new SilentProgress(), { keepImages: false });
    expect(report.clusters).toEqual(["prodlike-shop-local"]);
    expect(report.images).toHaveLength(5);
    expect(engine.images).toHaveLength(0);
    expect(provider.clusters.size).toBe(0);
    expect(await records.get("shop-local")).toBeUndefined();
    await expect(stat(path.join(codeRoot, ".prodlike", "local"))).rejects.toThrow(/ENOENT/);
    await expect(backend.status("shop-local")).resolves.toBeUndefined();
  });

  it("exec runs in the pod holding the service, in the working folder, with its exit code", async () => {
    const { topology, api, backend, stdout } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    api.exitCode = 3;
    const code = await backend.exec("shop-local", {
      service: "php-fpm",
      command: ["php", "-v"],
      tty: false,
      workdir: "/var/www/html",
    });
    expect(code).toBe(3);
    expect(api.execs).toEqual([
      {
        pod: "web-0",
        container: "php-fpm",
        command: ["sh", "-c", 'cd "$0" && exec "$@"', "/var/www/html", "php", "-v"],
      },
    ]);
    expect(String(stdout.read())).toContain("ran sh -c");
    await expect(
      backend.exec("shop-local", { service: "redis", command: ["true"], tty: false }),
    ).rejects.toMatchObject({ code: "SERVICE_NOT_FOUND" });
  });

  it("refuses to change the published ports of an existing cluster", async () => {
    const { topology, backend } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    for (const service of topology.services) {
      for (const port of service.ports) if (port.name === "db") port.hostPort = 13307;
    }
    await expect(backend.up(topology, new SilentProgress(), upOptions)).rejects.toMatchObject({
      code: "NOT_SUPPORTED",
    });
  });

  it("claims the ports of every recorded environment", async () => {
    const { topology, backend } = await setup();
    await backend.up(topology, new SilentProgress(), upOptions);
    expect(await backend.portClaims("shop-local")).toEqual({
      own: { web: webPort, db: 13306, mail: 18025 },
      others: new Set(),
    });
    expect((await backend.portClaims("shop-qa")).others).toEqual(new Set([webPort, 13306, 18025]));
  });

  describe("up --mirror", () => {
    const LOCAL_PHP = "shop/php:dev";
    async function mirrored() {
      const context = await setup();
      // The developer's own image, mapped in for production's php.
      context.engine.images.push({ id: "sha256:dev", tags: [LOCAL_PHP], labels: {} });
      const objects = await mirroredFixture(
        "roundtrip.yaml",
        { "registry.example.com/rt/php": LOCAL_PHP },
        ["nginx", "php-fpm"],
      );
      const importOptions = {
        identity: context.topology.identity,
        preset: "drupal",
        codeRoot: context.codeRoot,
        codeMountPath: "/var/www/html",
        webHostPort: webPort,
      };
      const layout = mirrorToTopology(objects, importOptions).topology;
      return { ...context, layout, importOptions };
    }

    it("applies production's objects, loads only this machine's images and serves the web entry", async () => {
      const { provider, api, backend, records, layout } = await mirrored();
      const { status } = await backend.up(layout, new SilentProgress(), upOptions);
      expect(status.state).toBe("running");
      expect(status.urls.web).toBe(`http://127.0.0.1:${webPort}`);
      expect(provider.calls).toEqual([
        `create prodlike-shop-local ${webPort}:30080`,
        `load prodlike-shop-local ${LOCAL_PHP}`,
      ]);
      expect(api.applied.map((object) => `${object.kind}/${object.metadata?.name}`)).toEqual([
        "Namespace/shop",
        "Secret/app-secrets",
        "ConfigMap/nginx-conf",
        "ConfigMap/php-pool",
        "Service/web",
        "Service/db",
        "Service/prodlike-web",
        "StatefulSet/db",
        "Deployment/web",
        "Ingress/web",
      ]);
      // Production's secret value never reaches the cluster: mirror replaced it.
      expect(JSON.stringify(api.applied)).not.toContain("production-password-never-local");
      const record = await records.get("shop-local");
      expect(record).toMatchObject({
        namespace: "shop",
        loadedImages: [LOCAL_PHP],
        builtImages: [],
        ports: [{ name: "web", service: "nginx", containerPort: 80, nodePort: 30080 }],
      });
      expect(status.services.find((service) => service.name === "nginx")?.ports[0]?.url).toBe(
        `http://127.0.0.1:${webPort}`,
      );
    });

    it("a second up with nothing changed applies nothing; destroy keeps the developer's image", async () => {
      const { provider, api, engine, backend, layout } = await mirrored();
      await backend.up(layout, new SilentProgress(), upOptions);
      const applied = api.applied.length;
      const second = await backend.up(layout, new SilentProgress(), upOptions);
      expect(second.changed).toBe(false);
      expect(provider.calls).toHaveLength(2);
      expect(api.applied).toHaveLength(applied);
      const report = await backend.destroy("shop-local", new SilentProgress(), {
        keepImages: false,
      });
      expect(report.images).toEqual([]);
      expect(engine.images.map((image) => image.tags[0])).toEqual([LOCAL_PHP]);
      expect(provider.clusters.size).toBe(0);
    });

    it("states suspend: false on CronJobs, so an up after down resumes them", async () => {
      const { api, backend, importOptions } = await mirrored();
      const shop = await mirroredFixture("shop.yaml", {}, ["web", "php-fpm"]);
      await backend.up(
        mirrorToTopology(shop, importOptions).topology,
        new SilentProgress(),
        upOptions,
      );
      const cron = api.applied.find((object) => object.kind === "CronJob") as unknown as {
        spec: { suspend?: boolean; schedule: string };
      };
      expect(cron.spec).toMatchObject({ suspend: false, schedule: expect.any(String) });
    });

    it("reads back the running workloads and execs in the pod a selector names", async () => {
      const { api, backend, layout } = await mirrored();
      await backend.up(layout, new SilentProgress(), upOptions);
      const running = await backend.running("shop-local");
      if (running.shape !== "objects") throw new Error("a cluster shows objects");
      expect(
        running.objects.map(
          (object) => `${object.apiVersion} ${object.kind}/${object.metadata?.name}`,
        ),
      ).toEqual(["apps/v1 Deployment/web", "apps/v1 StatefulSet/db"]);
      const result = await backend.execStream("shop-local", {
        service: "mariadb",
        command: ["true"],
        selector: "app=db",
      });
      expect(result.exitCode).toBe(0);
      expect(api.execs.at(-1)).toMatchObject({ pod: "db-0", container: "mariadb" });
      await expect(
        backend.execStream("shop-local", {
          service: "mariadb",
          command: ["true"],
          selector: "app=web",
        }),
      ).rejects.toMatchObject({ code: "SERVICE_NOT_FOUND" });
    });
  });
});
