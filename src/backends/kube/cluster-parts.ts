import type { ClusterLifecycle, LocalClusterTool } from "./cluster-provider.js";
import { ArchiveDelivery, type ImageDelivery } from "./image-delivery.js";
import { NodePortReach, type Reachability } from "./reachability.js";

// A Kubernetes backend is a combination of parts (the backend registry names which):
// kind and minikube are their tool's lifecycle, archives loaded into the node (or a local
// registry) and NodePorts; an existing cluster is a namespace, a registry and
// port-forwards. The backend itself is the same code for all of them.

/** Where the pods find the code: the checkout mounted into a local node, or sent into
 *  them (an image with the tree, kept live by sync). */
export type CodePlacement = { kind: "node-mount"; nodeCodePath: string } | { kind: "sent" };

export interface ClusterParts {
  lifecycle: ClusterLifecycle;
  delivery: ImageDelivery;
  reachability: Reachability;
  code: CodePlacement;
}

/** kind or minikube: the tool makes the cluster, loads images (unless a local registry is
 *  given) and maps NodePorts; the node mounts the code. */
export function localClusterParts(tool: LocalClusterTool, delivery?: ImageDelivery): ClusterParts {
  return {
    lifecycle: tool,
    delivery: delivery ?? new ArchiveDelivery(tool),
    reachability: new NodePortReach(tool),
    code: { kind: "node-mount", nodeCodePath: tool.nodeCodePath },
  };
}
