import type { V1Namespace } from "@kubernetes/client-node";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { KubeLabel } from "../../topology/kube-labels.js";
import type { Clock } from "../../waits/clock.js";
import type { ClusterLifecycle, ClusterLocation, ClusterSpec } from "./cluster-provider.js";
import type { KubeApi } from "./kube-api.js";

// A cluster that exists already (a team's dev/test cluster): nothing is made but the
// environment's namespace, created and labelled by prodlike (owner, project, preset,
// expiry). A namespace without prodlike's labels, or another environment's or another
// owner's, is refused, never adopted; deleting one waits until the cluster has finalized
// it (every object in it gone).

/** How long `destroy` waits for a namespace to be finalized. */
const DELETE_TIMEOUT_MS = 180_000;

export class ExistingCluster implements ClusterLifecycle {
  readonly name = "existing";

  constructor(
    private readonly connect: (kubeconfig: string, context: string) => Promise<KubeApi>,
    private readonly clock: Clock,
  ) {}

  // Nothing to install: the API answers or not, which `up` and doctor tell.
  async version(): Promise<string | undefined> {
    return "existing cluster";
  }

  locate(): ClusterLocation {
    throw new ProdlikeError(
      "INTERNAL",
      "An existing cluster is located by prodlike.yaml's `cluster:`",
    );
  }

  describe(location: ClusterLocation): string {
    return `namespace ${location.namespace} on ${location.context}`;
  }

  async exists(location: ClusterLocation): Promise<boolean> {
    return (await this.read(location)) !== undefined;
  }

  async create(spec: ClusterSpec): Promise<void> {
    const api = await this.connect(spec.kubeconfig, spec.context);
    const live = await api.read<V1Namespace>("v1", "Namespace", "", spec.namespace);
    if (live) refuseForeign(live, spec);
    await api.apply(namespaceObject(spec));
  }

  async adopt(spec: ClusterSpec): Promise<void> {
    const api = await this.connect(spec.kubeconfig, spec.context);
    const live = await api.read<V1Namespace>("v1", "Namespace", "", spec.namespace);
    if (!live) return this.create(spec);
    refuseForeign(live, spec);
    if (live.metadata?.deletionTimestamp) {
      throw new ProdlikeError("ENV_BUSY", `Namespace ${spec.namespace} is being deleted`, {
        hint: "Wait until the cluster has finalized it (`prodlike destroy` waits), then up again.",
      });
    }
    // Its lifetime and owner as this `up` says them.
    await api.apply(namespaceObject(spec));
  }

  async delete(location: ClusterLocation): Promise<void> {
    const api = await this.connect(location.kubeconfig, location.context);
    const live = await api.read<V1Namespace>("v1", "Namespace", "", location.namespace);
    if (!live) return;
    if (live.metadata?.labels?.[KubeLabel.managedBy] !== "prodlike") {
      throw foreign(location.namespace, "it does not carry prodlike's labels");
    }
    await api.remove("v1", "Namespace", "", location.namespace);
    const deadline = this.clock.now() + DELETE_TIMEOUT_MS;
    while (await api.read("v1", "Namespace", "", location.namespace)) {
      if (this.clock.now() > deadline) {
        throw new ProdlikeError(
          "CLUSTER_FAILED",
          `Namespace ${location.namespace} is still being finalized after ${DELETE_TIMEOUT_MS / 1000} s`,
          {
            hint: `Something in it holds a finalizer: kubectl --context ${location.context} get all,pvc -n ${location.namespace}`,
          },
        );
      }
      await this.clock.sleep(500);
    }
  }

  manualDelete(location: ClusterLocation): string {
    return `kubectl --context ${location.context} delete namespace ${location.namespace}`;
  }

  private async read(location: ClusterLocation): Promise<V1Namespace | undefined> {
    const api = await this.connect(location.kubeconfig, location.context);
    return api.read<V1Namespace>("v1", "Namespace", "", location.namespace);
  }
}

function namespaceObject(spec: ClusterSpec): V1Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: spec.namespace,
      labels: spec.labels,
      annotations: spec.annotations,
    },
  };
}

// Ours: made by prodlike, for this environment, by this owner.
function refuseForeign(live: V1Namespace, spec: ClusterSpec): void {
  const labels = live.metadata?.labels ?? {};
  if (labels[KubeLabel.managedBy] !== "prodlike")
    throw foreign(spec.namespace, "prodlike did not create it (it has no prodlike labels)");
  if (labels[KubeLabel.env] !== spec.labels[KubeLabel.env])
    throw foreign(spec.namespace, `it holds environment ${labels[KubeLabel.env] ?? "?"}`);
  const owner = labels[KubeLabel.owner];
  if (owner !== undefined && owner !== spec.labels[KubeLabel.owner])
    throw foreign(spec.namespace, `it belongs to ${owner}`);
}

function foreign(namespace: string, why: string): ProdlikeError {
  return new ProdlikeError("NAMESPACE_FOREIGN", `Namespace ${namespace} is not yours: ${why}`, {
    hint: "prodlike only works in a namespace it created for this environment. Pick another one with `cluster.namespace` in prodlike.yaml (or `--name`).",
  });
}
