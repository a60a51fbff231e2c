import { describe, expect, it } from "vitest";
import type { ContainerInfo } from "../../../../src/backends/docker/docker-engine.js";
import { OwnerLabel } from "../../../../src/backends/docker/environment-owners.js";
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

/** docker as the router uses it: `run` makes the container the engine then lists; the
 *  files an `exec` writes in it are the ones the engine then reads back. */
class DockerCli implements CommandRunner {
  readonly calls: string[] = [];
  readonly inputs: string[] = [];
  /** What the running router's CA root says about name constraints. */
  constraints = "";
  constructor(private readonly engine: FakeEngine) {}
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([file, ...args].join(" "));
    if (options.input !== undefined) this.inputs.push(options.input);
    if (args[0] === "run") {
      // The labels it was given.
      const labels = Object.fromEntries(
        args.flatMap((arg, index) =>
          args[index - 1] === "--label" ? [arg.split(/=(.*)/s).slice(0, 2)] : [],
        ),
      ) as Record<string, string>;
      this.engine.containers.push({
        ...container(ROUTER_NAME, labels, [ROUTER_NAME]),
        image: args.at(-1) ?? "",
      });
      this.engine.networks.push({
        id: "net-router",
        name: ROUTER_NAME,
        labels: { [Label.router]: "true" },
      });
    }
    if (args[0] === "rm") {
      this.engine.containers = this.engine.containers.filter((c) => c.name !== ROUTER_NAME);
    }
    const stdout = args.includes("nameConstraints") ? this.constraints : "";
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

function setUp() {
  const engine = new FakeEngine();
  const runner = new DockerCli(engine);
  const router = new LocalRouter({
    runner,
    engine,
    clock: new FakeClock(),
    portChoices: [PORTS],
  });
  return { engine, runner, router };
}

/** The owner record an environment's `up` leaves with the engine. */
function record(engine: FakeEngine, project: string, name: string): void {
  engine.volumes.push({
    name: `prodlike-env-${project}-${name}`,
    labels: {
      [OwnerLabel.record]: "environment",
      [OwnerLabel.env]: `${project}-${name}`,
      [OwnerLabel.uid]: "1000",
      [OwnerLabel.codeRoot]: `/src/${project}`,
      [OwnerLabel.project]: project,
      [OwnerLabel.name]: name,
      [OwnerLabel.createdAt]: "2026-12-01T00:00:00Z",
    },
  });
}

/** Project `project`'s environment `local`, recorded, its web container routed. */
function web(engine: FakeEngine, project: string): ContainerInfo {
  record(engine, project, "local");
  const env = `${project}-local`;
  return container(
    `${env}_web_1`,
    {
      [Label.env]: env,
      [Label.project]: project,
      [Label.name]: "local",
      [Label.backend]: "compose",
      "com.docker.compose.project": env,
      [Label.routes]: `local.${project}.localhost=80`,
    },
    [`${env}_default`],
  );
}

describe("LocalRouter", () => {
  it("starts on the first route: its image, network, volume, a container with no capabilities on 127.0.0.1, the route loaded", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"));
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
    expect(runner.calls).toContain("docker network connect a-local_default prodlike-router");
    const config = runner.inputs.at(-1) ?? "";
    expect(config).toContain('"dial":"a-local_web_1:80"');
    expect(config).toContain('"host":["local.a.localhost"]');
    expect(runner.calls.at(-1)).toContain("caddy reload --config /data/prodlike.json.next");
  });

  it("makes no call into the router when nothing changed since its last load", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"));
    await router.sync({});
    const loads = () => runner.calls.filter((call) => call.includes("caddy reload")).length;
    expect(loads()).toBe(1);
    await router.sync({});
    expect(loads()).toBe(1);
    engine.containers.push(web(engine, "b"));
    await router.sync({});
    expect(loads()).toBe(2);
  });

  it("lets go of a removed environment's network after the new routes load, keeping the router", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"), web(engine, "b"));
    await router.sync({});
    const started = runner.calls.length;
    const routerContainer = engine.containers.find((c) => c.name === ROUTER_NAME);
    if (routerContainer)
      routerContainer.networks = [ROUTER_NAME, "a-local_default", "b-local_default"];
    await router.sync({ leaving: new Set(["b-local"]) });
    const calls = runner.calls.slice(started);
    const load = calls.findIndex((call) => call.includes("caddy reload"));
    const disconnect = calls.indexOf(
      "docker network disconnect --force b-local_default prodlike-router",
    );
    expect(load).toBeGreaterThanOrEqual(0);
    expect(disconnect).toBeGreaterThan(load);
    expect(runner.inputs.at(-1)).not.toContain("local.b.localhost");
    expect(calls.some((call) => call.startsWith("docker rm"))).toBe(false);
  });

  it("is removed with its network when nothing is left to route; the CA volume stays", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"));
    engine.volumes.push({ name: "prodlike-router-data", labels: { [Label.router]: "true" } });
    await router.sync({});
    const state = await router.sync({ leaving: new Set(["a-local"]) });
    expect(state.running).toBe(false);
    expect(runner.calls).toContain("docker rm --force prodlike-router");
    expect(engine.removed).toContain("network net-router");
    const volumes = engine.volumes.filter((volume) => volume.labels[Label.router] === "true");
    expect(volumes.map((volume) => volume.name)).toEqual(["prodlike-router-data"]);
  });

  it("keeps a locked environment's credentials apart from the router; its destroy takes them, also as the last", async () => {
    const { engine, router } = setUp();
    engine.containers.push(web(engine, "a"));
    engine.volumes.push({ name: "prodlike-router-data", labels: { [Label.router]: "true" } });
    const auth = { username: "qa", hash: "$2a$14$abcdefghijklmnopqrstuv" };
    await router.sync({ lock: { envId: "a-local", auth } });
    const locks = () =>
      engine.volumes.find((volume) => volume.name === "prodlike-router-locks")?.labels[
        "dev.prodlike.router.locks"
      ];
    expect(JSON.parse(locks() ?? "{}")).toEqual({ "a-local": auth });
    expect(await router.lockedEnvironments()).toEqual(["a-local"]);
    await router.sync({ leaving: new Set(["a-local"]) });
    expect(locks()).toBeUndefined();
    const volumes = engine.volumes.filter((volume) => volume.labels[Label.router] === "true");
    expect(volumes.map((volume) => volume.name)).toEqual(["prodlike-router-data"]);
  });

  it("keeps a cluster environment's routes in its volume, dialling the node, until the node is gone", async () => {
    const { engine, runner, router } = setUp();
    record(engine, "shop", "qa");
    engine.containers.push(container("prodlike-shop-qa-control-plane", {}, ["kind"]));
    const routes = {
      container: "prodlike-shop-qa-control-plane",
      network: "kind",
      sites: [{ host: "qa.shop.localhost", dial: "prodlike-shop-qa-control-plane:30000" }],
    };
    await router.sync({ cluster: { envId: "shop-qa", routes } });
    expect(runner.calls).toContain("docker network connect kind prodlike-router");
    const clusters = () =>
      engine.volumes.find((volume) => volume.name === "prodlike-router-clusters")?.labels[
        "dev.prodlike.router.clusters"
      ];
    expect(clusters()).toBe(JSON.stringify({ "shop-qa": routes }));
    expect(runner.inputs.at(-1)).toContain('"dial":"prodlike-shop-qa-control-plane:30000"');
    // Another environment's up reads them back from the router and keeps them.
    engine.containers.push(web(engine, "a"));
    await router.sync({});
    expect(runner.inputs.at(-1)).toContain("qa.shop.localhost");
    // kind delete by hand: the node is gone, and so are its names.
    engine.containers = engine.containers.filter((c) => !c.name.endsWith("control-plane"));
    await router.sync({});
    expect(runner.inputs.at(-1)).not.toContain("qa.shop.localhost");
    // No routes kept is no record: nothing of it stays once the router goes.
    expect(clusters()).toBeUndefined();
  });

  it("serves the dashboard's name beside environments, but never runs for it alone", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"));
    await router.sync({});
    const dashboard = {
      container: ROUTER_NAME,
      network: ROUTER_NAME,
      // Only its own name: another the route names is not served.
      sites: [
        { host: DASHBOARD_HOST, dial: "172.30.0.1:41234" },
        { host: "local.a.localhost", dial: "172.30.0.1:41234" },
      ],
    };
    const served = await router.sync({
      cluster: { envId: "prodlike-dashboard-1000", routes: dashboard },
    });
    expect(served.running).toBe(true);
    expect(served.hostsByEnv.get("prodlike-dashboard-1000")).toEqual([DASHBOARD_HOST]);
    expect(runner.inputs.some((input) => input.includes('"dial":"172.30.0.1:41234"'))).toBe(true);
    // Another user's dashboard that no longer answers: its route dropped, ours kept.
    const theirs = { ...dashboard, sites: [{ host: DASHBOARD_HOST, dial: "172.30.0.1:1" }] };
    await router.sync({ cluster: { envId: "prodlike-dashboard-0", routes: theirs } });
    expect(Object.keys(await router.keptRoutes()).sort()).toEqual([
      "prodlike-dashboard-0",
      "prodlike-dashboard-1000",
    ]);
    await router.sync({ forget: ["prodlike-dashboard-0"] });
    expect(Object.keys(await router.keptRoutes())).toEqual(["prodlike-dashboard-1000"]);
    // The last environment goes: the dashboard's route does not keep the router.
    const state = await router.sync({ leaving: new Set(["a-local"]) });
    expect(state.running).toBe(false);
    expect(runner.calls).toContain("docker rm --force prodlike-router");
  });
});

describe("LocalRouter upgrades", () => {
  it("replaces a router of an older generation (Caddy's own CA), and only that", async () => {
    // (A router started by this test's own run carries the generation label.)
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"));
    await router.sync({});
    const routerContainer = engine.containers.find((c) => c.name === ROUTER_NAME);
    // Another image of the same generation (another prodlike version) is kept.
    if (routerContainer) routerContainer.image = "prodlike/router:111111111111";
    await router.sync({});
    expect(runner.calls.filter((call) => call.startsWith("docker run")).length).toBe(1);
    if (routerContainer) routerContainer.labels = { ...routerContainer.labels };
    delete routerContainer?.labels["dev.prodlike.router.generation"];
    // Without the label, its CA decides: this one's root has no name constraints.
    await router.sync({});
    expect(runner.calls).toContain(
      "docker exec prodlike-router openssl x509 -in /data/prodlike-ca/root.crt -noout -ext nameConstraints",
    );
    const runs = () => runner.calls.filter((call) => call.startsWith("docker run")).length;
    expect(runs()).toBe(2);
    // One without the label whose CA is the constrained one (a prodlike of before the
    // label started it) is kept.
    const again = engine.containers.find((c) => c.name === ROUTER_NAME);
    if (again) again.labels = { ...again.labels };
    delete again?.labels["dev.prodlike.router.generation"];
    runner.constraints =
      "X509v3 Name Constraints: critical\n    Permitted:\n      DNS:localhost\n      DNS:.localhost";
    await router.sync({});
    expect(runs()).toBe(2);
  });
});

describe("LocalRouter and vanishing networks", () => {
  it("serves the others when an environment's network is removed between listing and connecting", async () => {
    const { engine, runner, router } = setUp();
    engine.containers.push(web(engine, "a"), web(engine, "b"));
    const run = runner.run.bind(runner);
    runner.run = async (file, args, options) => {
      if (args.join(" ") === "network connect b-local_default prodlike-router") {
        runner.calls.push([file, ...args].join(" "));
        return {
          exitCode: 1,
          stdout: "",
          stderr: "Error response from daemon: network b-local_default not found",
          notFound: false,
        };
      }
      return run(file, args, options);
    };
    const state = await router.sync({});
    expect(state.running).toBe(true);
    expect(runner.inputs.at(-1)).toContain("local.a.localhost");
  });
});
