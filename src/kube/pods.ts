import type { KubeObject } from "../topology/model.js";

// The parts of a workload every Kubernetes reader needs (the mirror's transforms, a
// cluster's layout, parity, the cluster backends' waits): its pod template and spec, and
// the one volume the live code is mounted from.

export const CODE_VOLUME = "prodlike-code";
/** Where the code-mount transform points its hostPath: the cluster tools' node code path
 *  (compose mounts the code root there instead; a cluster backend sets its own). */
export const CODE_NODE_PATH = "/prodlike/code";

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [key: string]: unknown }[];
  nodeSelector?: unknown;
  affinity?: unknown;
  tolerations?: unknown;
  topologySpreadConstraints?: unknown;
}

export interface Container {
  name: string;
  image?: string;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; [key: string]: unknown }[];
}

/** The pod template of a workload (a CronJob's sits in its job template). */
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodSpec;
}

/** A workload's pod template (a CronJob's is inside its job template). */
export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (object.kind === "CronJob") {
    return (spec?.jobTemplate as { spec?: { template?: PodTemplate } } | undefined)?.spec?.template;
  }
  return spec?.template as PodTemplate | undefined;
}

export function podSpecOf(object: KubeObject): PodSpec | undefined {
  return podTemplateOf(object)?.spec;
}
