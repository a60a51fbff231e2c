import type { V1Deployment, V1StatefulSet } from "@kubernetes/client-node";

// kubectl's `rollout status` rules (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go),
// ported: client-node has no rollout helper. Each function reads one object as the API
// returned it and says whether its rollout is done, still going, or has failed.

export type RolloutState =
  | { phase: "done"; message: string }
  | { phase: "progressing"; message: string }
  | { phase: "failed"; message: string };

export function deploymentRollout(deployment: V1Deployment): RolloutState {
  const name = deployment.metadata?.name ?? "deployment";
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { phase: "progressing", message: `${name}: waiting for the spec update to be observed` };
  }
  const progressing = status.conditions?.find((condition) => condition.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return { phase: "failed", message: `${name}: exceeded its progress deadline` };
  }
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) {
    return { phase: "progressing", message: `${name}: ${updated} of ${wanted} updated replicas` };
  }
  if (total > updated) {
    return {
      phase: "progressing",
      message: `${name}: ${total - updated} old replicas pending termination`,
    };
  }
  if (available < updated) {
    return { phase: "progressing", message: `${name}: ${available} of ${updated} available` };
  }
  return { phase: "done", message: `${name}: rolled out` };
}

export function statefulSetRollout(statefulSet: V1StatefulSet): RolloutState {
  const name = statefulSet.metadata?.name ?? "statefulset";
  const generation = statefulSet.metadata?.generation ?? 0;
  const status = statefulSet.status ?? { replicas: 0 };
  const strategy = statefulSet.spec?.updateStrategy;
  if (strategy?.type && strategy.type !== "RollingUpdate") {
    // kubectl: OnDelete sets cannot be watched; their pods change only when deleted.
    return { phase: "done", message: `${name}: ${strategy.type} (not watched)` };
  }
  if ((status.observedGeneration ?? 0) === 0 || generation > (status.observedGeneration ?? 0)) {
    return { phase: "progressing", message: `${name}: waiting for the spec update to be observed` };
  }
  const wanted = statefulSet.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  if (ready < wanted) {
    return { phase: "progressing", message: `${name}: ${ready} of ${wanted} pods ready` };
  }
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    const updated = status.updatedReplicas ?? 0;
    if (updated < wanted - partition) {
      return {
        phase: "progressing",
        message: `${name}: ${updated} of ${wanted - partition} partitioned pods updated`,
      };
    }
    return { phase: "done", message: `${name}: partitioned roll out complete` };
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      phase: "progressing",
      message: `${name}: ${status.updatedReplicas ?? 0} of ${wanted} pods at the new revision`,
    };
  }
  return { phase: "done", message: `${name}: rolled out` };
}
