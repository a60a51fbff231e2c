import { createHash, randomBytes } from "node:crypto";
import type {
  V1Deployment,
  V1Job,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { Kubelet } from "./kubelet.js";
import { isReady, recordEvent, resourceType, writeStatus } from "./objects.js";
import type { PodRuntime } from "./runtime.js";
import type { KubeJson, Store } from "./store.js";

// The control loops of a one-node cluster, simplified but with the outcomes clients read:
// Deployments make ReplicaSets and pods (a new template rolls: new pods first, or old
// ones first with Recreate), StatefulSets make NAME-0 pods and their claims, Jobs run a
// pod to completion, claims bind to a volume the "provisioner" makes (volumeName, bind
// annotations, the protection finalizer); the kubelet (kubelet.ts) runs the pods.

const type = resourceType;
const POD = type("v1", "Pod");
const PVC = type("v1", "PersistentVolumeClaim");
const PV = type("v1", "PersistentVolume");
const DEPLOYMENT = type("apps/v1", "Deployment");
const REPLICA_SET = type("apps/v1", "ReplicaSet");
const STATEFUL_SET = type("apps/v1", "StatefulSet");
const JOB = type("batch/v1", "Job");

export class ClusterLoops {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** When each Deployment's current template started rolling out (its progress deadline). */
  private readonly rollouts = new Map<string, { hash: string; since: number }>();
  private stopped = false;
  private readonly kubelet: Kubelet;

  constructor(
    private readonly store: Store,
    runtime: PodRuntime,
    hostPath: (nodePath: string) => string,
  ) {
    this.kubelet = new Kubelet(store, runtime, hostPath);
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      this.running = true;
      try {
        await this.reconcile();
      } catch (error) {
        process.stderr.write(`kube-wire: control loop: ${String(error)}\n`);
      } finally {
        this.running = false;
        if (!this.stopped) this.timer = setTimeout(tick, 150);
      }
    };
    this.timer = setTimeout(tick, 50);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.kubelet.settled();
  }

  /** Deletes a pod gracefully (it shows as terminating while its containers stop). */
  terminate(pod: KubeJson): KubeJson | undefined {
    return this.kubelet.terminate(pod);
  }

  async reconcile(): Promise<void> {
    this.bindClaims();
    for (const deployment of this.store.list(DEPLOYMENT)) this.deployment(deployment);
    for (const set of this.store.list(STATEFUL_SET)) this.statefulSet(set);
    for (const job of this.store.list(JOB)) this.job(job);
    for (const pod of this.store.list(POD)) await this.kubelet.run(pod);
  }

  private bindClaims(): void {
    for (const claim of this.store.list(PVC)) {
      const spec = (claim as unknown as V1PersistentVolumeClaim).spec ?? {};
      const phase = (claim.status as { phase?: string } | undefined)?.phase;
      if (spec.volumeName) {
        if (this.store.get(PV, "", spec.volumeName)) continue;
        // Bound once to a volume this cluster does not have (copied from elsewhere).
        const lost = claim.metadata.annotations?.["pv.kubernetes.io/bind-completed"] === "yes";
        const want = lost ? "Lost" : "Pending";
        if (phase !== want) {
          this.store.update(PVC, { ...claim, status: { phase: want } });
          if (lost)
            recordEvent(
              this.store,
              claim,
              "Warning",
              "ClaimLost",
              "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            );
        }
        continue;
      }
      const volumeName = `pvc-${claim.metadata.uid}`;
      this.store.create(PV, {
        metadata: {
          name: volumeName,
          annotations: { "pv.kubernetes.io/provisioned-by": "rancher.io/local-path" },
        },
        spec: {
          capacity: { storage: spec.resources?.requests?.storage ?? "1Gi" },
          accessModes: spec.accessModes ?? ["ReadWriteOnce"],
          claimRef: {
            kind: "PersistentVolumeClaim",
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
            uid: claim.metadata.uid,
          },
          persistentVolumeReclaimPolicy: "Delete",
          storageClassName: spec.storageClassName ?? "standard",
          hostPath: { path: `/var/local-path-provisioner/${volumeName}` },
        },
        status: { phase: "Bound" },
      });
      this.store.update(PVC, {
        ...claim,
        metadata: {
          ...claim.metadata,
          annotations: {
            ...claim.metadata.annotations,
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
            "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path",
          },
          finalizers: ["kubernetes.io/pvc-protection"],
        },
        spec: { ...spec, volumeName, storageClassName: spec.storageClassName ?? "standard" },
        status: {
          phase: "Bound",
          accessModes: spec.accessModes ?? ["ReadWriteOnce"],
          capacity: { storage: spec.resources?.requests?.storage ?? "1Gi" },
        },
      });
    }
  }

  private deployment(object: KubeJson): void {
    const deployment = object as unknown as V1Deployment;
    const name = object.metadata.name;
    const namespace = object.metadata.namespace ?? "default";
    const wanted = deployment.spec?.replicas ?? 1;
    const hash = templateHash(deployment.spec?.template);
    const owned = this.ownedPods(object);
    const active = owned.filter((pod) => !pod.metadata.deletionTimestamp);
    const current = active.filter((pod) => pod.metadata.labels?.["pod-template-hash"] === hash);
    const old = active.filter((pod) => pod.metadata.labels?.["pod-template-hash"] !== hash);
    // Recreate: every old pod gone (terminated too) before a new one starts.
    const recreate = deployment.spec?.strategy?.type === "Recreate";
    const oldLeft = owned.some((pod) => pod.metadata.labels?.["pod-template-hash"] !== hash);
    const replicaSet = `${name}-${hash}`;
    if (!this.store.get(REPLICA_SET, namespace, replicaSet) && wanted > 0) {
      this.store.create(REPLICA_SET, {
        metadata: {
          name: replicaSet,
          namespace,
          labels: { ...deployment.spec?.template.metadata?.labels, "pod-template-hash": hash },
          ownerReferences: [ownerRef(object)],
        },
        spec: {
          replicas: wanted,
          selector: deployment.spec?.selector,
          template: deployment.spec?.template,
        },
      });
    }
    if (recreate) for (const pod of old) this.deletePod(pod);
    for (let index = current.length; index < wanted && !(recreate && oldLeft); index += 1)
      this.createPod(object, `${replicaSet}-${randomBytes(3).toString("hex").slice(0, 5)}`, hash, {
        kind: "ReplicaSet",
        name: replicaSet,
      });
    for (const extra of current.slice(wanted)) this.deletePod(extra);
    const ready = current.filter(isReady).length;
    // Old pods go once the new template's are ready (maxUnavailable 0 for a local cluster).
    if (ready >= wanted) for (const pod of old) this.deletePod(pod);
    const live = this.ownedPods(object).filter((pod) => !pod.metadata.deletionTimestamp);
    const deadline = (deployment.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const rollout = this.rollouts.get(object.metadata.uid ?? "");
    const since = rollout?.hash === hash ? rollout.since : Date.now();
    this.rollouts.set(object.metadata.uid ?? "", { hash, since });
    const complete = ready >= wanted && live.length === current.length;
    const inTime = Date.now() - since < deadline;
    const status = {
      observedGeneration: object.metadata.generation,
      replicas: live.length,
      updatedReplicas: current.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(wanted - ready > 0 ? { unavailableReplicas: wanted - ready } : {}),
      conditions: [
        {
          type: "Progressing",
          status: complete || inTime ? "True" : "False",
          reason: complete
            ? "NewReplicaSetAvailable"
            : inTime
              ? "ReplicaSetUpdated"
              : "ProgressDeadlineExceeded",
          message: `ReplicaSet "${replicaSet}" ${complete ? "has successfully progressed." : "is progressing."}`,
        },
        {
          type: "Available",
          status: ready >= wanted ? "True" : "False",
          reason: ready >= wanted ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        },
      ],
    };
    writeStatus(this.store, DEPLOYMENT, object, status);
  }

  private statefulSet(object: KubeJson): void {
    const set = object as unknown as V1StatefulSet;
    const name = object.metadata.name;
    const namespace = object.metadata.namespace ?? "default";
    const wanted = set.spec?.replicas ?? 1;
    const revision = `${name}-${templateHash(set.spec?.template)}`;
    const pods = this.ownedPods(object);
    for (let ordinal = 0; ordinal < wanted; ordinal += 1) {
      for (const template of set.spec?.volumeClaimTemplates ?? []) {
        const claim = `${template.metadata?.name}-${name}-${ordinal}`;
        if (this.store.get(PVC, namespace, claim)) continue;
        this.store.create(PVC, {
          metadata: { name: claim, namespace, labels: set.spec?.selector?.matchLabels ?? {} },
          spec: { ...template.spec, volumeMode: "Filesystem" },
          status: { phase: "Pending" },
        });
      }
      const podName = `${name}-${ordinal}`;
      const pod = pods.find((candidate) => candidate.metadata.name === podName);
      if (!pod) {
        // OrderedReady: the next ordinal waits for the one before it.
        const before = pods.find(
          (candidate) => candidate.metadata.name === `${name}-${ordinal - 1}`,
        );
        if (ordinal === 0 || (before && isReady(before)))
          this.createPod(object, podName, revision, { kind: "StatefulSet", name }, ordinal);
        break;
      }
      if (pod.metadata.labels?.["controller-revision-hash"] !== revision) {
        this.deletePod(pod);
        break;
      }
    }
    for (const pod of pods) {
      const ordinal = Number(pod.metadata.name.slice(name.length + 1));
      if (ordinal >= wanted) this.deletePod(pod);
    }
    const live = this.ownedPods(object).filter((pod) => !pod.metadata.deletionTimestamp);
    const updated = live.filter(
      (pod) => pod.metadata.labels?.["controller-revision-hash"] === revision,
    );
    const ready = live.filter(isReady).length;
    const done = updated.length === wanted && live.length === wanted;
    writeStatus(this.store, STATEFUL_SET, object, {
      observedGeneration: object.metadata.generation,
      replicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: done ? wanted : live.length - updated.length,
      updatedReplicas: updated.length,
      currentRevision: done
        ? revision
        : ((object.status as { currentRevision?: string } | undefined)?.currentRevision ??
          revision),
      updateRevision: revision,
      collisionCount: 0,
    });
  }

  private job(object: KubeJson): void {
    const job = object as unknown as V1Job;
    const name = object.metadata.name;
    const pods = this.ownedPods(object);
    if (pods.length === 0 && !(object.status as { succeeded?: number } | undefined)?.succeeded)
      this.createPod(
        object,
        `${name}-${randomBytes(3).toString("hex").slice(0, 5)}`,
        templateHash(job.spec?.template),
        { kind: "Job", name },
      );
    const phases = pods.map((pod) => (pod.status as { phase?: string } | undefined)?.phase);
    const succeeded = phases.filter((phase) => phase === "Succeeded").length;
    const failed = phases.filter((phase) => phase === "Failed").length;
    writeStatus(this.store, JOB, object, {
      ...(succeeded ? { succeeded } : {}),
      ...(failed ? { failed } : {}),
      active: phases.filter((phase) => phase === "Running" || phase === "Pending").length,
    });
  }

  private ownedPods(owner: KubeJson): KubeJson[] {
    const name = owner.metadata.name;
    return this.store.list(POD, owner.metadata.namespace).filter((pod) => {
      const ref = pod.metadata.ownerReferences?.[0];
      if (!ref) return false;
      if (owner.kind === "Deployment")
        return (
          ref.kind === "ReplicaSet" &&
          ref.name.startsWith(`${name}-`) &&
          pod.metadata.labels?.[OWNER_LABEL] === name
        );
      return ref.kind === owner.kind && ref.name === name;
    });
  }

  private createPod(
    owner: KubeJson,
    name: string,
    hash: string,
    ref: { kind: string; name: string },
    ordinal?: number,
  ): void {
    const template = (
      owner.spec as { template?: { metadata?: KubeJson["metadata"]; spec?: V1Pod["spec"] } }
    ).template;
    const namespace = owner.metadata.namespace ?? "default";
    const spec = structuredClone(template?.spec ?? { containers: [] });
    if (owner.kind === "StatefulSet") {
      // Each claim template becomes a volume of this ordinal's own claim.
      const claims = (owner as unknown as V1StatefulSet).spec?.volumeClaimTemplates ?? [];
      spec.volumes = [
        ...(spec.volumes ?? []),
        ...claims.map((claim) => ({
          name: claim.metadata?.name ?? "",
          persistentVolumeClaim: {
            claimName: `${claim.metadata?.name}-${owner.metadata.name}-${ordinal}`,
          },
        })),
      ];
      spec.hostname = name;
      const serviceName = (owner as unknown as V1StatefulSet).spec?.serviceName;
      if (serviceName) spec.subdomain = serviceName;
    }
    spec.restartPolicy ??= owner.kind === "Job" ? "Never" : "Always";
    spec.nodeName = "wire-node";
    const labels = {
      ...template?.metadata?.labels,
      ...(owner.kind === "Deployment" ? { "pod-template-hash": hash } : {}),
      ...(owner.kind === "StatefulSet"
        ? { "controller-revision-hash": hash, "statefulset.kubernetes.io/pod-name": name }
        : {}),
      ...(owner.kind === "Job" ? { "job-name": owner.metadata.name } : {}),
    };
    const pod = this.store.create(POD, {
      metadata: {
        name,
        namespace,
        labels:
          owner.kind === "Deployment" ? { ...labels, [OWNER_LABEL]: owner.metadata.name } : labels,
        ...(template?.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{ ...ownerRef(owner), kind: ref.kind, name: ref.name }],
      },
      spec,
      status: {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        qosClass: "BestEffort",
      },
    });
    recordEvent(
      this.store,
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${namespace}/${name} to wire-node`,
    );
  }

  private deletePod(pod: KubeJson): void {
    this.kubelet.terminate(pod);
  }
}

/** The label the double puts on a Deployment's pods to find them again (the real
 *  controller goes through the ReplicaSet's uid). */
const OWNER_LABEL = "wire.test/deployment";

function ownerRef(owner: KubeJson) {
  return {
    apiVersion: owner.apiVersion ?? "v1",
    kind: owner.kind ?? "",
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

function templateHash(template: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(template ?? {}))
    .digest("hex")
    .slice(0, 10);
}
