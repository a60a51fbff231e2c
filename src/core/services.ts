import os from "node:os";
import path from "node:path";
import type { Backend, BackendName } from "../backends/backend.js";
import type { RegistryCredentials } from "../backends/docker/docker-credentials.js";
import type { DockerEngine } from "../backends/docker/docker-engine.js";
import type { ClusterParts } from "../backends/kube/cluster-parts.js";
import type { KubeApi } from "../backends/kube/kube-api.js";
import {
  backendInfo,
  type ClusterBackendName,
  isClusterBackend,
} from "../config/backend-registry.js";
import type { ObjectLister } from "../mirror/live-cluster.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { RouterDoor } from "../router/router-plan.js";
import type { Clock } from "../waits/clock.js";
import { routerEnabled } from "./router-switch.js";
import { type StateStores, stateStores } from "./state-stores.js";

// The collaborators the core needs, built once by the composition root (src/cli) and
// passed down. Heavy adapters (dockerode, conf) are loaded only by commands that use them,
// so `prodlike --version` and `--help` stay fast.
export interface CoreServices {
  runner: CommandRunner;
  clock: Clock;
  /** The process environment as the CLI read it: the one place the core learns PRODLIKE_*,
   *  SSH_AUTH_SOCK and the state folder from (tests pass their own). */
  env: NodeJS.ProcessEnv;
  /** The host user's uid and gid (none on Windows): code containers run as them. */
  developer: { uid: number; gid: number } | undefined;
  /** The kubeconfig `--context` names a context of (KUBECONFIG's first, else ~/.kube/config). */
  kubeconfigPath: string;
  /** A read-only lister of production's objects through a context of that kubeconfig. */
  productionCluster(context: string): Promise<ObjectLister>;
  /** The Kubernetes API through a context of a kubeconfig (a team cluster's for doctor,
   *  `ls` and `gc`). */
  kube(kubeconfig: string, context: string): Promise<KubeApi>;
  engine(): Promise<DockerEngine>;
  backend(name: BackendName): Promise<Backend>;
  /** The cluster backend an environment was made on, from its record. */
  recordedBackend(envId: string): Promise<BackendName | undefined>;
  /** The cluster backends any recorded environment uses. */
  recordedBackends(): Promise<BackendName[]>;
  /** What prodlike keeps on disk (lifetimes, data origins, snapshots, locks…). */
  stores: StateStores;
}

export async function createCoreServices(
  env: NodeJS.ProcessEnv,
  /** How to run prodlike itself (node and the CLI's entry): a background session. */
  self: readonly string[] = [],
): Promise<CoreServices> {
  const [{ ExecaCommandRunner }, { systemClock }] = await Promise.all([
    import("../process/execa-command-runner.js"),
    import("../waits/clock.js"),
  ]);
  const runner = new ExecaCommandRunner();
  const kubeconfigPath =
    env.KUBECONFIG?.split(path.delimiter)[0] || path.join(os.homedir(), ".kube", "config");
  let engine: Promise<DockerEngine> | undefined;
  const getEngine = () => {
    engine ??= import("../backends/docker/docker-engine.js").then(
      ({ DockerodeEngine }) => new DockerodeEngine(env),
    );
    return engine;
  };
  const backends = new Map<BackendName, Promise<Backend>>();
  const records = async () => {
    const [{ EnvironmentRecords }, { stateDir }] = await Promise.all([
      import("../env/environment-records.js"),
      import("../config/user-settings.js"),
    ]);
    return new EnvironmentRecords(stateDir(env));
  };
  return {
    runner,
    clock: systemClock,
    env,
    stores: stateStores(env),
    developer:
      process.getuid && process.getgid
        ? { uid: process.getuid(), gid: process.getgid() }
        : undefined,
    kubeconfigPath,
    async productionCluster(context) {
      const { ClientNodeKubeApi } = await import("../backends/kube/kube-api.js");
      return ClientNodeKubeApi.objectClient(kubeconfigPath, context);
    },
    async kube(kubeconfig, context) {
      const { ClientNodeKubeApi } = await import("../backends/kube/kube-api.js");
      return ClientNodeKubeApi.connect(kubeconfig, context);
    },
    engine: getEngine,
    async recordedBackend(envId) {
      return (await (await records()).get(envId))?.backend;
    },
    async recordedBackends() {
      return [...new Set((await (await records()).list()).map((record) => record.backend))];
    },
    backend(name) {
      let backend = backends.get(name);
      if (!backend) {
        backend = createBackend(name, { self, runner, clock: systemClock, engine: getEngine, env });
        backends.set(name, backend);
      }
      return backend;
    },
  };
}

interface BackendDeps {
  /** How to run prodlike itself (a background session): node and the CLI's entry. */
  self: readonly string[];
  runner: CommandRunner;
  clock: Clock;
  engine: () => Promise<DockerEngine>;
  env: NodeJS.ProcessEnv;
}

async function createBackend(name: BackendName, deps: BackendDeps): Promise<Backend> {
  if (isClusterBackend(name)) return createClusterBackend(name, deps);
  const [{ ComposeBackend }, { ComposeDetectionCache, composeCacheKey }, { stateDir }, images] =
    await Promise.all([
      import("../backends/compose/compose-backend.js"),
      import("../backends/compose/compose-detection-cache.js"),
      import("../config/user-settings.js"),
      imageClaims(deps),
    ]);
  const backend = new ComposeBackend({
    runner: deps.runner,
    clock: deps.clock,
    engine: await deps.engine(),
    images,
    composeOverride: deps.env.PRODLIKE_COMPOSE,
    detectionCache: {
      key: () => composeCacheKey(deps.env),
      cache: new ComposeDetectionCache(stateDir(deps.env)),
    },
  });
  await backend.preflight();
  return backend;
}

// The claims every user of the engine shares (see machine-claims.ts): a destroy keeps the
// images another `up` is about to use.
async function imageClaims(deps: BackendDeps) {
  const [{ ImageClaims }, { MachineClaims }] = await Promise.all([
    import("../backends/docker/image-claims.js"),
    import("../backends/docker/machine-claims.js"),
  ]);
  return new ImageClaims(
    new MachineClaims({
      engine: await deps.engine(),
      clock: deps.clock,
      uid: process.getuid?.() ?? -1,
    }),
  );
}

async function createClusterBackend(name: ClusterBackendName, deps: BackendDeps): Promise<Backend> {
  const [{ KubeBackend }, { ClientNodeKubeApi }, records, { stateDir }] = await Promise.all([
    import("../backends/kube/kube-backend.js"),
    import("../backends/kube/kube-api.js"),
    import("../env/environment-records.js"),
    import("../config/user-settings.js"),
  ]);
  const connect = (kubeconfig: string, context: string) =>
    ClientNodeKubeApi.connect(kubeconfig, context);
  const { DockerCredentials } = await import("../backends/docker/docker-credentials.js");
  const login = new DockerCredentials(
    deps.env.DOCKER_CONFIG || path.join(os.homedir(), ".docker"),
    deps.runner,
  );
  const credentials = (host: string) => login.forHost(host);
  const backend = new KubeBackend({
    name,
    parts: await clusterParts(name, deps, connect, credentials),
    credentials,
    runner: deps.runner,
    engine: await deps.engine(),
    records: new records.EnvironmentRecords(stateDir(deps.env)),
    clock: deps.clock,
    connect,
    images: await imageClaims(deps),
  });
  await backend.preflight();
  return backend;
}

// The parts the registry names for a cluster backend (cluster-parts.ts).
async function clusterParts(
  name: ClusterBackendName,
  deps: BackendDeps,
  connect: (kubeconfig: string, context: string) => Promise<KubeApi>,
  credentials: (host: string) => Promise<RegistryCredentials | undefined>,
): Promise<ClusterParts> {
  const info = backendInfo(name).cluster;
  const { RegistryDelivery } = await import("../backends/kube/registry-delivery.js");
  if (info?.lifecycle === "existing") {
    const [{ ExistingCluster }, { PortForwardReach }, { BackgroundSessions }, { stateDir }] =
      await Promise.all([
        import("../backends/kube/existing-cluster.js"),
        import("../backends/kube/reachability.js"),
        import("../backends/kube/session/background-sessions.js"),
        import("../config/user-settings.js"),
      ]);
    return {
      lifecycle: new ExistingCluster(connect, deps.clock),
      // The registry is the project's (prodlike.yaml cluster.registry), given per up.
      delivery: new RegistryDelivery(deps.runner, { credentials }),
      reachability: new PortForwardReach(
        new BackgroundSessions(path.join(stateDir(deps.env), "sessions"), deps.self, deps.env),
        (options) => routerDoor(deps, options),
      ),
      code: { kind: "sent" },
    };
  }
  const [{ KindCluster }, { MinikubeCluster }, { localClusterParts }] = await Promise.all([
    import("../backends/kube/kind-cluster.js"),
    import("../backends/kube/minikube-cluster.js"),
    import("../backends/kube/cluster-parts.js"),
  ]);
  // kind's local-registry pattern: images pushed to PRODLIKE_REGISTRY (localhost:5001),
  // which the node reaches at PRODLIKE_REGISTRY_NODE_URL (kind's docs name it so).
  const registry =
    info?.lifecycle === "kind" && deps.env.PRODLIKE_REGISTRY
      ? {
          host: deps.env.PRODLIKE_REGISTRY,
          nodeUrl: deps.env.PRODLIKE_REGISTRY_NODE_URL || "http://kind-registry:5000",
        }
      : undefined;
  const tool =
    info?.lifecycle === "kind"
      ? new KindCluster(deps.runner, deps.env.KIND_EXPERIMENTAL_DOCKER_NETWORK || "kind", registry)
      : new MinikubeCluster(deps.runner);
  return localClusterParts(
    tool,
    registry ? new RegistryDelivery(deps.runner, { registry: registry.host }) : undefined,
  );
}

// Where the local router reaches this machine (an existing cluster's port-forwards listen
// there too); nothing when the router is off or the engine cannot say.
async function routerDoor(
  deps: BackendDeps,
  options: { make: boolean },
): Promise<RouterDoor | undefined> {
  if (!routerEnabled(deps.env)) return undefined;
  const { LocalRouter } = await import("../backends/router/local-router.js");
  const router = LocalRouter.withPortsOf(deps.env, {
    runner: deps.runner,
    engine: await deps.engine(),
    clock: deps.clock,
  });
  return router.door(options).catch(() => undefined);
}
