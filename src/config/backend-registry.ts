// Every backend prodlike knows, in one place: the schema's `backend:` values, the CLI's
// `--backend` choices, doctor's list, the environment records and the composition root
// all derive from this table. Core asks it what a backend does (how its routes reach the
// router, whether it is a cluster), never compares a backend's name.

/** How a cluster environment's cluster comes to exist: made per environment by a local
 *  tool, or one that exists already (a namespace per environment in it). */
export type ClusterLifecycleName = "kind" | "minikube" | "existing";
/** How its images reach the cluster: loaded into the node, or pushed to a registry. */
export type ImageDeliveryName = "archive" | "registry";
/** How this machine reaches its services: NodePorts a local node maps to 127.0.0.1, or
 *  port-forwards prodlike keeps open (an Ingress, when configured, serves everyone). */
export type ReachabilityName = "node-port" | "port-forward";

export interface BackendInfo {
  summary: string;
  /** Where the environment's routes come from for the local router: labels on its own
   *  containers (they go away with them), or handed over by the backend. */
  routes: "labels" | "handed-over";
  /** A Kubernetes backend: the parts it is combined from. */
  cluster?: {
    lifecycle: ClusterLifecycleName;
    delivery: ImageDeliveryName;
    reachability: ReachabilityName;
    /** The code is mounted from this machine (a local node), or sent into the pods. */
    code: "node-mount" | "sent";
  };
  /** Whether its containers can open a connection back to this machine (Xdebug's IDE
   *  listens here): through their gateway on a local engine or node, never from a remote
   *  cluster's pods (no Kubernetes API forwards a port that way). */
  reachesThisMachine: boolean;
  /** Programs on PATH it cannot work without (doctor checks each). */
  tools: readonly string[];
}

export const BACKENDS = {
  compose: {
    summary: "docker compose on this machine's Docker engine",
    routes: "labels",
    reachesThisMachine: true,
    tools: ["docker", "compose"],
  },
  kind: {
    summary: "a kind cluster per environment on this machine",
    routes: "handed-over",
    reachesThisMachine: true,
    cluster: {
      lifecycle: "kind",
      delivery: "archive",
      reachability: "node-port",
      code: "node-mount",
    },
    tools: ["docker", "kind"],
  },
  minikube: {
    summary: "a minikube profile per environment on this machine",
    routes: "handed-over",
    reachesThisMachine: true,
    cluster: {
      lifecycle: "minikube",
      delivery: "archive",
      reachability: "node-port",
      code: "node-mount",
    },
    tools: ["docker", "minikube"],
  },
  cluster: {
    summary: "a namespace per environment on an existing cluster (prodlike.yaml `cluster:`)",
    routes: "handed-over",
    reachesThisMachine: false,
    cluster: {
      lifecycle: "existing",
      delivery: "registry",
      reachability: "port-forward",
      code: "sent",
    },
    tools: ["docker"],
  },
} as const satisfies Record<string, BackendInfo>;

export type BackendName = keyof typeof BACKENDS;

/** The Kubernetes backends. */
export type ClusterBackendName = {
  [Name in BackendName]: (typeof BACKENDS)[Name] extends { cluster: object } ? Name : never;
}[BackendName];

export const BACKEND_NAMES = Object.keys(BACKENDS) as [BackendName, ...BackendName[]];

/** Where an environment runs when nothing says otherwise. */
export const DEFAULT_BACKEND: BackendName = "compose";

export function backendInfo(name: BackendName): BackendInfo {
  return BACKENDS[name];
}

export function isClusterBackend(name: BackendName): name is ClusterBackendName {
  return backendInfo(name).cluster !== undefined;
}

/** One line per backend, for help texts and the schema's description. */
export function describeBackends(): string {
  return BACKEND_NAMES.map((name) => `${name} (${BACKENDS[name].summary})`).join(", ");
}
