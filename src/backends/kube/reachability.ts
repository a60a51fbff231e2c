import type { ReachabilityName } from "../../config/backend-registry.js";
import type { EnvironmentRecord } from "../../env/environment-records.js";
import type { ExternalRoutes, RouterDoor } from "../../router/router-plan.js";
import type { LocalClusterTool } from "./cluster-provider.js";

// How this machine reaches a cluster environment's services, apart from how the cluster
// is made: a local node maps its NodePorts to 127.0.0.1 (kind, minikube), or prodlike
// keeps port-forwards open through the API server (an existing cluster: its nodes are
// not this machine's).

export interface Reachability {
  readonly name: ReachabilityName;
  /** Whether the published ports are NodePorts the cluster's node maps to this machine. */
  readonly nodePorts: boolean;
  /** What the local router sends to the environment; undefined: nothing. */
  routeTargets(record: EnvironmentRecord): Promise<ExternalRoutes | undefined>;
  /** The address on this machine the router dials the environment's ports at, besides
   *  127.0.0.1, while the environment's session runs; undefined: none (or no router). */
  routerAddress(): Promise<string | undefined>;
  /** After the rollout, before the page is checked: makes the ports answer here. */
  open(record: EnvironmentRecord): Promise<void>;
  /** The environment stops or goes: what `open` started stops. */
  close(envId: string): Promise<void>;
}

/** NodePorts on a local node, mapped to 127.0.0.1 when the cluster was made. */
export class NodePortReach implements Reachability {
  readonly name = "node-port";
  readonly nodePorts = true;

  constructor(private readonly tool: Pick<LocalClusterTool, "node">) {}

  // The router dials the node's NodePorts by the node container's name, on its network:
  // the same hops a browser's request takes through 127.0.0.1:PORT, without the host.
  async routeTargets(record: EnvironmentRecord): Promise<ExternalRoutes | undefined> {
    if (!record.routes?.length) return undefined;
    const node = this.tool.node(record.cluster);
    return {
      ...node,
      sites: record.routes.map((route) => ({
        host: route.host,
        dial: `${node.container}:${route.nodePort}`,
      })),
    };
  }

  // The router dials the node itself, not this machine.
  async routerAddress(): Promise<string | undefined> {
    return undefined;
  }

  // The node's port mappings are there as long as the cluster is.
  async open(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The long-running session that keeps an environment's port-forwards (and live sync)
 *  going after `up` returns: started in the background, stopped by `down` and `destroy`. */
export interface SessionControl {
  start(record: EnvironmentRecord): Promise<void>;
  stop(envId: string): Promise<void>;
}

/** Port-forwards through the API server, kept by the environment's session. */
export class PortForwardReach implements Reachability {
  readonly name = "port-forward";
  readonly nodePorts = false;

  constructor(
    private readonly sessions: SessionControl,
    /** The router network's gateway (with `make`, the network made if need be);
     *  undefined when the router is off or has no network. */
    private readonly door: (options: { make: boolean }) => Promise<RouterDoor | undefined>,
  ) {}

  // The router's container cannot dial this machine's loopback: the session listens on
  // the router network's gateway as well, at the same ports, and the names go there.
  // No container of its own to wait for: the routes count while it is recorded.
  async routeTargets(record: EnvironmentRecord): Promise<ExternalRoutes | undefined> {
    const door = await this.door({ make: true });
    if (!door) return undefined;
    const sites = (record.routes ?? []).flatMap((route) =>
      route.hostPort ? [{ host: route.host, dial: `${door.gateway}:${route.hostPort}` }] : [],
    );
    return sites.length
      ? { container: door.container, network: door.network, sites, onThisMachine: true }
      : undefined;
  }

  async routerAddress(): Promise<string | undefined> {
    // Only looked up: the session asks every 10 s, and a router stopped by hand
    // (`prodlike router stop`) is not brought back by it.
    return (await this.door({ make: false }))?.gateway;
  }

  async open(record: EnvironmentRecord): Promise<void> {
    // The router's network made first: the session listens on its gateway from the start,
    // and the router's first start (which these routes bring about) finds it listening.
    await this.door({ make: true });
    await this.sessions.start(record);
  }

  async close(envId: string): Promise<void> {
    await this.sessions.stop(envId);
  }
}
