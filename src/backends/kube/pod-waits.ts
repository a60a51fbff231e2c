import { Writable } from "node:stream";
import type { KubernetesObject, V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import { workloadSelector } from "../../kube/web-entry.js";
import { KubeLabel } from "../../topology/kube-labels.js";
import type { Clock } from "../../waits/clock.js";
import { type Probe, poll, WaitFailed } from "../../waits/wait.js";
import { waitOrFail } from "../wait-failure.js";
import type { KubeApi, PodInfo } from "./kube-api.js";
import { deploymentRollout, type RolloutState, statefulSetRollout } from "./rollout.js";

// Waiting on a cluster: a workload rolled out by kubectl's rules, a deleted pod replaced
// and ready; both fail at once on a pod stuck in a state it does not leave by itself.

export async function waitForRollout(
  api: KubeApi,
  clock: Clock,
  namespace: string,
  workload: KubernetesObject,
  options: { timeoutMs: number; onDetail: (detail: string) => void; logsHint: string },
): Promise<void> {
  const name = workload.metadata?.name ?? "";
  const probe = async (): Promise<Probe> => {
    const live = await api.read(workload.apiVersion ?? "", workload.kind ?? "", namespace, name);
    if (!live) return { done: false, detail: "not created yet" };
    const state: RolloutState =
      workload.kind === "StatefulSet"
        ? statefulSetRollout(live as V1StatefulSet)
        : deploymentRollout(live as V1Deployment);
    if (state.phase === "failed") return { failed: true, reason: state.message };
    if (state.phase === "done") return { done: true };
    // Until the controller has seen the applied spec, the pods are the old release's (a
    // rollback's: the broken ones it is about to replace): their states say nothing yet.
    const status = (live as { status?: { observedGeneration?: number } }).status;
    if ((live.metadata?.generation ?? 0) > (status?.observedGeneration ?? 0))
      return { done: false, detail: state.message };
    // A pod stuck in a state it will not leave by itself fails the wait at once.
    const stuck = stuckReason(await api.listPods(namespace, podSelector(workload)));
    if (stuck) return { failed: true, reason: stuck };
    return { done: false, detail: state.message };
  };
  await waitOrFail(
    poll(`${workload.kind} ${name}`, probe, { timeoutMs: options.timeoutMs, intervalMs: 500 }),
    clock,
    options.onDetail,
    async (failure) => ({
      code: "ROLLOUT_FAILED",
      message: `${workload.kind} ${name} did not roll out: ${failure.reason}`,
      hint: `${await diagnose(api, namespace, await api.listPods(namespace, podSelector(workload)).catch(() => []))}\n${options.logsHint} ${name}`,
      data: { workload: name },
    }),
  );
}

/** After its pod was deleted: the container's new pod runs and is ready. */
export async function waitForReplacement(
  api: KubeApi,
  clock: Clock,
  where: { namespace: string; selector: string; service: string; oldPodUid: string },
  timeoutMs: number,
): Promise<void> {
  const { service } = where;
  const probe = async (): Promise<Probe> => {
    const pods = await api.listPods(where.namespace, where.selector);
    const replacement = pods.find((candidate) =>
      candidate.containers.some((container) => container.name === service),
    );
    const container = replacement?.containers.find((candidate) => candidate.name === service);
    if (!replacement || replacement.uid === where.oldPodUid)
      return { done: false, detail: "old pod stopping" };
    if (container && STUCK.has(container.state)) return { failed: true, reason: container.state };
    return container?.ready
      ? { done: true }
      : { done: false, detail: container?.state ?? "pending" };
  };
  await waitOrFail(
    poll(`${service} restarted`, probe, { timeoutMs, intervalMs: 500 }),
    clock,
    undefined,
    (failure) => ({
      code: "HEALTH_TIMEOUT",
      message: `Service ${service} did not come back: ${failure.reason}`,
      data: { service },
    }),
  );
}

/** After a scale to zero: every selected pod gone (their containers stopped), or the time
 *  limit over; resolves how many are still stopping, so `down` says what is true. */
export async function waitForPodsGone(
  api: KubeApi,
  clock: Clock,
  where: { namespace: string; selector: string },
  options: { timeoutMs: number; onDetail: (detail: string) => void },
): Promise<number> {
  let left = 0;
  const probe = async (): Promise<Probe> => {
    const pods = await api.listPods(where.namespace, where.selector);
    left = pods.filter((pod) => pod.phase !== "Succeeded" && pod.phase !== "Failed").length;
    return left === 0 ? { done: true } : { done: false, detail: `${left} pods stopping` };
  };
  try {
    await poll("pods stopped", probe, { timeoutMs: options.timeoutMs, intervalMs: 500 }).wait(
      clock,
      options.onDetail,
    );
  } catch (error) {
    if (!(error instanceof WaitFailed && error.timedOut)) throw error;
  }
  return left;
}

// The pods a workload owns, by its own selector (a preset's carry app.kubernetes.io/name).
export function podSelector(workload: KubernetesObject): string {
  return workloadSelector(workload) ?? `${KubeLabel.appName}=${workload.metadata?.name ?? ""}`;
}

// Waiting reasons a pod does not recover from without a change: fail fast with them.
export const STUCK = new Set([
  "ImagePullBackOff",
  "ErrImagePull",
  "ErrImageNeverPull",
  "CrashLoopBackOff",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "InvalidImageName",
  "Init:Error",
  "Init:CrashLoopBackOff",
]);

/** How many of a failing container's last log lines, and of its pod's events, a failed
 *  rollout shows. */
const LOG_LINES = 12;
const EVENTS = 6;

// What a failed rollout's error says about each pod that is not ready: its containers'
// states, the scheduler's reason when it was not placed, its latest events (a failed
// probe, a back-off, an OOM kill, an image pull) and the last lines of each container
// that is not ready (the run before, when the current one has not started).
export async function diagnose(
  api: KubeApi,
  namespace: string,
  pods: readonly PodInfo[],
): Promise<string> {
  if (pods.length === 0) return describePods(pods);
  const parts: string[] = [];
  for (const pod of pods) {
    parts.push(describePods([pod]));
    const failing = pod.containers.filter((container) => !container.ready);
    if (failing.length === 0) continue;
    if (pod.unschedulable) parts.push(`  not scheduled: ${pod.unschedulable}`);
    const events = await api.events(namespace, pod.name).catch(() => []);
    for (const event of events.filter((item) => item.type !== "Normal").slice(-EVENTS))
      parts.push(
        `  event ${event.reason}: ${event.message}${event.count > 1 ? ` (x${event.count})` : ""}`,
      );
    for (const container of failing) {
      const lines = await lastLines(api, namespace, pod.name, container.name);
      if (lines.length === 0) continue;
      parts.push(`  ${container.name}'s last lines:`, ...lines.map((line) => `    | ${line}`));
    }
  }
  return parts.join("\n");
}

async function lastLines(
  api: KubeApi,
  namespace: string,
  pod: string,
  container: string,
): Promise<string[]> {
  for (const previous of [false, true]) {
    let text = "";
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString("utf8");
        done();
      },
    });
    const read = await api
      .logs(namespace, pod, container, sink, { follow: false, tail: LOG_LINES, previous })
      .then(
        () => true,
        () => false,
      );
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    if (read && lines.length > 0) return lines.slice(-LOG_LINES);
  }
  return [];
}

export function stuckReason(pods: readonly PodInfo[]): string | undefined {
  // A pod being deleted is on its way out (the release before, being replaced): its
  // state says nothing about the pods that replace it.
  for (const pod of pods.filter((candidate) => !candidate.terminating)) {
    for (const container of pod.containers) {
      if (STUCK.has(container.state)) return `${pod.name}/${container.name}: ${container.state}`;
    }
  }
  return undefined;
}

export function describePods(pods: readonly PodInfo[]): string {
  if (pods.length === 0) return "No pods were created.";
  return pods
    .map(
      (pod) =>
        `${pod.name} ${pod.terminating ? "Terminating" : pod.phase}: ${pod.containers.map((c) => `${c.name} ${c.state}${c.ready ? " ready" : ""}${c.restarts ? ` (${c.restarts} restarts)` : ""}`).join(", ")}`,
    )
    .join("\n");
}
