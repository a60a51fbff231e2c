import type { ReachabilityName } from "../../config/backend-registry.js";
import type { EnvironmentRecord } from "../../env/environment-records.js";
import type { ExternalRoutes } from "../../router/router-plan.js";
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
  routeTargets(record: EnvironmentRecord): ExternalRoutes | undefined;
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
  routeTargets(record: EnvironmentRecord): ExternalRoutes | undefined {
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

  constructor(private readonly sessions: SessionControl) {}

  // The router's container cannot dial this machine's loopback, where the forwards
  // listen: the environment's 127.0.0.1 URLs (and its Ingress) reach it.
  routeTargets(): ExternalRoutes | undefined {
    return undefined;
  }

  async open(record: EnvironmentRecord): Promise<void> {
    await this.sessions.start(record);
  }

  async close(envId: string): Promise<void> {
    await this.sessions.stop(envId);
  }
}
