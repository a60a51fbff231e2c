import net from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeApi, PodInfo } from "../../../../src/backends/kube/kube-api.js";
import { PortForwardReach } from "../../../../src/backends/kube/reachability.js";
import { PortForwards } from "../../../../src/backends/kube/session/port-forwards.js";
import type { EnvironmentRecord } from "../../../../src/env/environment-records.js";

// An existing cluster's names on the local router: the router (a container) cannot dial
// this machine's loopback, so the session listens on the router network's gateway too,
// at the environment's own ports, and the routes dial there.

const record = (port: number): EnvironmentRecord => ({
  id: "x-local",
  project: "x",
  name: "local",
  backend: "cluster",
  preset: "drupal",
  codeRoot: "/code",
  cluster: "team-dev",
  kubeconfig: "/kubeconfig",
  context: "team-dev",
  namespace: "prodlike-x-local",
  ports: [
    {
      name: "web",
      service: "web",
      containerPort: 80,
      hostPort: port,
      nodePort: 0,
      protocol: "http",
    },
  ],
  routes: [
    { host: "local.x.localhost", nodePort: 0, hostPort: port },
    { host: "mail.local.x.localhost", nodePort: 0 },
  ],
  loadedImages: [],
  configHash: "h",
  createdAt: "2026-12-03T00:00:00Z",
});

const noSessions = { start: async () => undefined, stop: async () => undefined };

describe("PortForwardReach.routeTargets", () => {
  it("sends the environment's names to its forwarded ports on the router network's gateway", async () => {
    const asked: boolean[] = [];
    const reach = new PortForwardReach(noSessions, async ({ make }) => {
      asked.push(make);
      return { gateway: "172.30.0.1", network: "prodlike-router", container: "prodlike-router" };
    });
    expect(await reach.routeTargets(record(8123))).toEqual({
      // The router's own container: a prodlike of before keeps the routes while it runs.
      container: "prodlike-router",
      onThisMachine: true,
      network: "prodlike-router",
      // A route without a forwarded port (a record from before) is left out.
      sites: [{ host: "local.x.localhost", dial: "172.30.0.1:8123" }],
    });
    expect(await reach.routerAddress()).toBe("172.30.0.1");
    // Routes (and the session's start) make the router's network; the session's checks
    // every 10 s only look, so a router stopped by hand stays stopped.
    await reach.open(record(8123));
    expect(asked).toEqual([true, false, true]);
  });

  it("routes nothing when the router is off", async () => {
    const reach = new PortForwardReach(noSessions, async () => undefined);
    expect(await reach.routeTargets(record(8123))).toBeUndefined();
    expect(await reach.routerAddress()).toBeUndefined();
  });
});

describe("PortForwards on the router's address", () => {
  let forwards: PortForwards | undefined;
  afterEach(async () => {
    await forwards?.close();
  });

  // A pod whose port answers "pod:PORT" and closes, through the fake API's port-forward.
  const api = {
    read: async () => ({ spec: { selector: { app: "web" } } }),
    listPods: async (): Promise<PodInfo[]> => [
      {
        name: "web-1",
        uid: "u1",
        labels: {},
        annotations: {},
        terminating: false,
        phase: "Running",
        containers: [{ name: "web", ready: true, state: "running", restarts: 0 }],
      },
    ],
    portForward: async (_namespace: string, pod: string, port: number, socket: Duplex) => {
      socket.end(`${pod}:${port}`);
    },
  } as unknown as KubeApi;

  it("listens on 127.0.0.1 and on the router's address, both forwarded to the pod", async () => {
    const port = await freePort();
    const lines: string[] = [];
    // 127.0.0.2 stands in for the gateway: another local address than 127.0.0.1.
    forwards = new PortForwards(
      api,
      record(port),
      { onLine: (line) => lines.push(line) },
      async () => "127.0.0.2",
    );
    await forwards.open();
    expect(await read("127.0.0.1", port)).toBe("web-1:80");
    expect(await read("127.0.0.2", port)).toBe("web-1:80");
    expect(lines.join("\n")).toContain(`127.0.0.2:${port}`);
    await forwards.close();
    forwards = undefined;
    await expect(read("127.0.0.2", port)).rejects.toThrow();
  });

  it("keeps 127.0.0.1 when the router's address cannot be listened on", async () => {
    const port = await freePort();
    const lines: string[] = [];
    forwards = new PortForwards(
      api,
      record(port),
      { onLine: (line) => lines.push(line) },
      async () => "192.0.2.1",
    );
    await forwards.open();
    expect(await read("127.0.0.1", port)).toBe("web-1:80");
    expect(lines.join("\n")).toMatch(/not reachable by the local router on 192\.0\.2\.1/);
  });
});

function read(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = net.connect(port, host);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
    server.once("error", reject);
  });
}
