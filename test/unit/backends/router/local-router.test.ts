import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ContainerInfo } from "../../../../src/backends/docker/docker-engine.js";
import { LocalRouter, ROUTER_NAME } from "../../../../src/backends/router/local-router.js";
import type {
  CommandRunner,
  RunOptions,
  RunResult,
} from "../../../../src/process/command-runner.js";
import { DASHBOARD_HOST } from "../../../../src/router/router-plan.js";
import { Label } from "../../../../src/topology/labels.js";
import { FakeClock } from "../../../support/fake-clock.js";
import { FakeEngine } from "../../../support/fake-engine.js";

// The router's docker CLI calls, exactly, against an in-memory engine: what a first route
// starts, what a sync sends Caddy, what the last removal leaves.

const PORTS = { http: 39081, https: 39443 };

/** docker as the router uses it: `run` makes the container the engine then lists. */
class DockerCli implements CommandRunner {
  readonly calls: string[] = [];
  readonly inputs: string[] = [];
  clusterRoutes = "";
  constructor(private readonly engine: FakeEngine) {}
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([file, ...args].join(" "));
    if (options.input !== undefined) this.inputs.push(options.input);
    if (args[0] === "run") {
      this.engine.containers.push(
        container(
          ROUTER_NAME,
          {
            [Label.managed]: "true",
            [Label.router]: "true",
            [Label.routerPorts]: `http:${PORTS.http},https:${PORTS.https}`,
          },
          [ROUTER_NAME],
        ),
      );
      this.engine.networks.push({
        id: "net-router",
        name: ROUTER_NAME,
        labels: { [Label.router]: "true" },
      });
    }
    if (args[0] === "rm") {
      this.engine.containers = this.engine.containers.filter((c) => c.name !== ROUTER_NAME);
    }
    const stdout = args.join(" ").includes("cat /data/cluster-routes.json")
      ? this.clusterRoutes
      : "";
    return { exitCode: 0, stdout, stderr: "", notFound: false };
  }
  async stream(): Promise<RunResult> {
    throw new Error("not used");
  }
}

function container(
  name: string,
  labels: Record<string, string>,
  networks: string[],
  state = "running",
): ContainerInfo {
  return {
    id: `id-${name}`,
    name,
    state,
    health: "none",
    labels,
    image: "img",
    imageId: "sha256:img",
    ports: [],
    createdAt: 0,
    networks,
  };
}

function setUp(loadedFile?: string) {
  const engine = new FakeEngine();
  const runner = new DockerCli(engine);
  const router = new LocalRouter({
    runner,
    engine,
    clock: new FakeClock(),
    portChoices: [PORTS],
    ...(loadedFile ? { loadedFile } : {}),
  });
  return { engine, runner, router };
}

const web = (env: string) =>
  container(`${env}_web_1`, { [Label.env]: env, [Label.routes]: `local.${env}.localhost=80` }, [
    `${env}_default`,
  ]);

describe("LocalRouter", () => {
  it("starts on the first route: its image, network, volume, a container with no capabilities on 127.0.0.1, the route loaded", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web("a"));
    const state = await router.sync({});
    expect(state).toMatchObject({ running: true, ports: PORTS });
    expect(engine.images.map((image) => image.tags[0])).toEqual([
      expect.stringMatching(/^prodlike\/router:[0-9a-f]{12}$/),
    ]);
    const labels = `--label ${Label.managed}=true --label ${Label.router}=true`;
    expect(runner.calls.slice(0, 3)).toEqual([
      `docker network create ${labels} prodlike-router`,
      `docker volume create ${labels} prodlike-router-data`,
      expect.stringContaining(`docker run --detach --name prodlike-router ${labels}`),
    ]);
    const run = runner.calls[2] ?? "";
    for (const part of [
      "--cap-drop ALL",
      "--security-opt no-new-privileges",
      "--sysctl net.ipv4.ip_unprivileged_port_start=0",
      `--publish 127.0.0.1:${PORTS.http}:80`,
      `--publish 127.0.0.1:${PORTS.https}:443`,
      "--volume prodlike-router-data:/data",
      "--restart unless-stopped",
    ]) {
      expect(run).toContain(part);
    }
    expect(runner.calls).toContain("docker network connect a_default prodlike-router");
    const config = runner.inputs.at(-1) ?? "";
    expect(config).toContain('"dial":"a_web_1:80"');
    expect(config).toContain('"host":["local.a.localhost"]');
    expect(runner.calls.at(-1)).toContain("caddy reload --config /data/prodlike.json.next");
  });

  it("makes no call into the router when nothing changed since its last load", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-router-"));
    const { engine, runner, router } = setUp(path.join(dir, "router-loaded"));
    engine.containers.push(web("a"));
    await router.sync({});
    const loads = () => runner.calls.filter((call) => call.includes("caddy reload")).length;
    expect(loads()).toBe(1);
    await router.sync({});
    expect(loads()).toBe(1);
    engine.containers.push(web("b"));
    await router.sync({});
    expect(loads()).toBe(2);
    await rm(dir, { recursive: true, force: true });
  });

  it("lets go of a removed environment's network after the new routes load, keeping the router", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web("a"), web("b"));
    await router.sync({});
    const started = runner.calls.length;
    const routerContainer = engine.containers.find((c) => c.name === ROUTER_NAME);
    if (routerContainer) routerContainer.networks = [ROUTER_NAME, "a_default", "b_default"];
    await router.sync({ leaving: "b" });
    const calls = runner.calls.slice(started);
    const load = calls.findIndex((call) => call.includes("caddy reload"));
    const disconnect = calls.indexOf("docker network disconnect --force b_default prodlike-router");
    expect(load).toBeGreaterThanOrEqual(0);
    expect(disconnect).toBeGreaterThan(load);
    expect(runner.inputs.at(-1)).not.toContain("local.b.localhost");
    expect(calls.some((call) => call.startsWith("docker rm"))).toBe(false);
  });

  it("is removed with its network when nothing is left to route; the CA volume stays", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web("a"));
    engine.volumes.push({ name: "prodlike-router-data", labels: { [Label.router]: "true" } });
    await router.sync({});
    const state = await router.sync({ leaving: "a" });
    expect(state.running).toBe(false);
    expect(runner.calls).toContain("docker rm --force prodlike-router");
    expect(engine.removed).toContain("network net-router");
    expect(engine.volumes.map((volume) => volume.name)).toEqual(["prodlike-router-data"]);
  });

  it("keeps a cluster environment's routes in its volume, dialling the node, until the node is gone", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(container("prodlike-shop-qa-control-plane", {}, ["kind"]));
    const routes = {
      container: "prodlike-shop-qa-control-plane",
      network: "kind",
      sites: [{ host: "qa.shop.localhost", dial: "prodlike-shop-qa-control-plane:30000" }],
    };
    await router.sync({ cluster: { envId: "shop-qa", routes } });
    expect(runner.calls).toContain("docker network connect kind prodlike-router");
    expect(runner.inputs).toContainEqual(JSON.stringify({ "shop-qa": routes }));
    expect(runner.inputs.at(-1)).toContain('"dial":"prodlike-shop-qa-control-plane:30000"');
    // Another environment's up reads them back from the router and keeps them.
    runner.clusterRoutes = JSON.stringify({ "shop-qa": routes });
    engine.containers.push(web("a"));
    await router.sync({});
    expect(runner.inputs.at(-1)).toContain("qa.shop.localhost");
    // kind delete by hand: the node is gone, and so are its names.
    engine.containers = engine.containers.filter((c) => !c.name.endsWith("control-plane"));
    await router.sync({});
    expect(runner.inputs.at(-1)).not.toContain("qa.shop.localhost");
    expect(runner.inputs).toContainEqual("{}");
  });

  it("serves the dashboard's name beside environments, but never runs for it alone", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web("a"));
    await router.sync({});
    const dashboard = {
      container: ROUTER_NAME,
      network: ROUTER_NAME,
      sites: [{ host: DASHBOARD_HOST, dial: "172.30.0.1:41234" }],
    };
    const served = await router.sync({
      cluster: { envId: "prodlike-dashboard-1000", routes: dashboard },
    });
    expect(served.running).toBe(true);
    expect(runner.inputs.at(-1)).toContain('"dial":"172.30.0.1:41234"');
    // The last environment goes: the dashboard's route does not keep the router.
    runner.clusterRoutes = JSON.stringify({ "prodlike-dashboard-1000": dashboard });
    const state = await router.sync({ leaving: "a" });
    expect(state.running).toBe(false);
    expect(runner.calls).toContain("docker rm --force prodlike-router");
  });
});
