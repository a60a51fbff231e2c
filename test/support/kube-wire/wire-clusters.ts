import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import Docker from "dockerode";
import { parse as parseYaml } from "yaml";
import { DockerRuntime } from "./docker-runtime.js";
import { typeOfKind } from "./resources.js";
import { type KubeWireOptions, KubeWireServer, kubeconfigYaml } from "./server.js";

// Clusters as `kind` makes them, for the CLI's own kind backend: `test/support/kube-wire/
// bin/kind` (on PATH in the test) answers the kind commands prodlike runs by asking this
// manager (a 127.0.0.1 HTTP endpoint and a token in the environment), which starts one API
// server double per cluster, pods as Docker containers, with the cluster config's
// extraMounts (the code tree) and extraPortMappings (127.0.0.1:hostPort -> a NodePort
// Service's ready pod) as kind would set them up.

export const STANDIN_BIN = fileURLToPath(new URL("./bin", import.meta.url));
/** The stand-in node's image: any with a shell (CI makes this one offline). */
const NODE_IMAGE = "debian:trixie-slim";

interface KindConfig {
  nodes?: {
    extraMounts?: { hostPath: string; containerPath: string }[];
    extraPortMappings?: { containerPort: number; hostPort: number; listenAddress?: string }[];
  }[];
}

export interface WireCluster {
  server: KubeWireServer;
  /** A container named as kind names its node, for what prodlike runs in the node with
   *  `docker exec` (a registry's hosts.toml). */
  node: string;
  proxies: net.Server[];
  /** What `kind load` was asked to load. */
  loads: string[][];
}

export class WireClusters {
  readonly clusters = new Map<string, WireCluster>();
  private readonly token = randomBytes(16).toString("hex");
  private readonly docker = new Docker();
  private readonly control: http.Server;

  private constructor(private readonly options: Omit<KubeWireOptions, "runtime" | "hostPath">) {
    this.control = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { "Content-Type": "text/plain" });
        response.end(String(error instanceof Error ? error.message : error));
      });
    });
  }

  static async start(
    options: Omit<KubeWireOptions, "runtime" | "hostPath"> = {},
  ): Promise<WireClusters> {
    const clusters = new WireClusters(options);
    await new Promise<void>((resolve) => clusters.control.listen(0, "127.0.0.1", resolve));
    return clusters;
  }

  /** What the CLI's environment needs: the stand-in first on PATH, and how it reaches
   *  this manager. */
  env(): Record<string, string> {
    const { port } = this.control.address() as net.AddressInfo;
    return {
      PATH: `${STANDIN_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
      PRODLIKE_TEST_KUBE_WIRE: `http://127.0.0.1:${port}`,
      PRODLIKE_TEST_KUBE_WIRE_TOKEN: this.token,
    };
  }

  cluster(name: string): WireCluster {
    const cluster = this.clusters.get(name);
    if (!cluster) throw new Error(`no wire cluster ${name}`);
    return cluster;
  }

  async close(): Promise<void> {
    for (const name of [...this.clusters.keys()]) await this.remove(name);
    await new Promise<void>((resolve) => this.control.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse) {
    if (request.headers.authorization !== `Bearer ${this.token}`) {
      response.writeHead(401).end();
      return;
    }
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const [, , name, sub] = url.pathname.split("/");
    const body = await readJson(request);
    let answer: unknown = {};
    if (request.method === "GET" && !name) answer = { clusters: [...this.clusters.keys()].sort() };
    else if (request.method === "POST" && !name)
      answer = { kubeconfig: await this.create(String(body.name), String(body.config ?? "")) };
    else if (request.method === "DELETE" && name) await this.remove(name);
    else if (request.method === "POST" && name && sub === "images")
      this.cluster(name).loads.push((body.images as string[] | undefined) ?? []);
    else {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(JSON.stringify(answer));
  }

  private async create(name: string, configText: string): Promise<string> {
    if (this.clusters.has(name))
      throw new Error(`node(s) already exist for a cluster with the name "${name}"`);
    const config = (parseYaml(configText) ?? {}) as KindConfig;
    const nodeConfig = config.nodes?.[0] ?? {};
    const mounts = nodeConfig.extraMounts ?? [];
    const server = await KubeWireServer.start({
      ...this.options,
      runtime: new DockerRuntime(),
      hostPath: (nodePath) => {
        const mount = mounts.find(
          (candidate) =>
            nodePath === candidate.containerPath ||
            nodePath.startsWith(`${candidate.containerPath}/`),
        );
        if (!mount) throw new Error(`${nodePath} is not on a mount of the node`);
        return path.join(mount.hostPath, path.relative(mount.containerPath, nodePath));
      },
    });
    const node = await this.docker.createContainer({
      name: `${name}-control-plane`,
      Image: NODE_IMAGE,
      Entrypoint: ["sleep"],
      Cmd: ["infinity"],
      Labels: { "kube-wire-node": name },
    });
    await node.start();
    const cluster: WireCluster = { server, node: node.id, proxies: [], loads: [] };
    this.clusters.set(name, cluster);
    for (const mapping of nodeConfig.extraPortMappings ?? [])
      cluster.proxies.push(await nodePortProxy(server, mapping));
    return kubeconfigYaml(server.url, server.token, `kind-${name}`, server.certificateAuthority);
  }

  private async remove(name: string): Promise<void> {
    const cluster = this.clusters.get(name);
    if (!cluster) return;
    this.clusters.delete(name);
    for (const proxy of cluster.proxies) proxy.close();
    await cluster.server.close();
    await this.docker
      .getContainer(cluster.node)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

// kind maps 127.0.0.1:hostPort to the node's port; the node's kube-proxy sends a NodePort
// to a ready pod of its Service, at the target port.
async function nodePortProxy(
  server: KubeWireServer,
  mapping: { containerPort: number; hostPort: number; listenAddress?: string },
): Promise<net.Server> {
  const services = requireType("v1", "Service");
  const pods = requireType("v1", "Pod");
  const proxy = net.createServer((client) => {
    client.on("error", () => undefined);
    const target = (() => {
      for (const object of server.store.list(services)) {
        const service = object as unknown as V1Service;
        const port = service.spec?.ports?.find(
          (candidate) => candidate.nodePort === mapping.containerPort,
        );
        if (!port) continue;
        const selector = service.spec?.selector ?? {};
        const pod = server.store
          .list(pods, object.metadata.namespace)
          .map((candidate) => candidate as unknown as V1Pod)
          .find(
            (candidate) =>
              !candidate.metadata?.deletionTimestamp &&
              Object.entries(selector).every(
                ([key, value]) => candidate.metadata?.labels?.[key] === value,
              ) &&
              candidate.status?.conditions?.some(
                (condition) => condition.type === "Ready" && condition.status === "True",
              ),
          );
        if (!pod) return undefined;
        const wanted = port.targetPort ?? port.port;
        const number =
          typeof wanted === "number"
            ? wanted
            : (pod.spec?.containers
                .flatMap((container) => container.ports ?? [])
                .find((candidate) => candidate.name === wanted)?.containerPort ?? Number(wanted));
        return { pod, port: number };
      }
      return undefined;
    })();
    if (!target) {
      client.destroy();
      return;
    }
    server.runtime.connect(target.pod, target.port).then(
      (upstream) => {
        upstream.on("error", () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once("error", reject);
    proxy.listen(mapping.hostPort, mapping.listenAddress ?? "127.0.0.1", resolve);
  });
  return proxy;
}

function requireType(apiVersion: string, kind: string) {
  const type = typeOfKind(apiVersion, kind);
  if (!type) throw new Error(`no type ${apiVersion} ${kind}`);
  return type;
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
