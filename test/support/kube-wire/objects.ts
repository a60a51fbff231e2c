import { randomBytes } from "node:crypto";
import { type ResourceType, typeOfKind } from "./resources.js";
import type { KubeJson, Store } from "./store.js";

// What the double's control loops share: resource types by kind, status writes that
// leave the resourceVersion alone when nothing changed, events, readiness, timestamps.

export function resourceType(apiVersion: string, kind: string): ResourceType {
  const found = typeOfKind(apiVersion, kind);
  if (!found) throw new Error(`no resource type ${apiVersion} ${kind}`);
  return found;
}

export const EVENT = resourceType("v1", "Event");

/** Merges `status` into the stored object's, writing only when it changes something. */
export function writeStatus(
  store: Store,
  resource: ResourceType,
  object: KubeJson,
  status: Record<string, unknown>,
): void {
  const live = store.get(resource, object.metadata.namespace ?? "", object.metadata.name);
  if (!live) return;
  const previous = live.status as Record<string, unknown> | undefined;
  if (JSON.stringify(previous) === JSON.stringify({ ...previous, ...status })) return;
  store.update(resource, { ...live, status: { ...previous, ...status } });
}

/** An event on an object, counted when it repeats (as the kubelet's recorder does). */
export function recordEvent(
  store: Store,
  object: KubeJson,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
): void {
  const namespace = object.metadata.namespace ?? "default";
  const existing = store
    .list(EVENT, namespace)
    .find(
      (event) =>
        (event.involvedObject as { uid?: string }).uid === object.metadata.uid &&
        event.reason === reason &&
        event.message === message,
    );
  const time = now();
  if (existing) {
    store.update(EVENT, {
      ...existing,
      count: Number(existing.count ?? 1) + 1,
      lastTimestamp: time,
    });
    return;
  }
  store.create(EVENT, {
    metadata: { name: `${object.metadata.name}.${randomBytes(8).toString("hex")}`, namespace },
    involvedObject: {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata.name,
      namespace,
      uid: object.metadata.uid,
    },
    reason,
    message,
    type,
    count: 1,
    firstTimestamp: time,
    lastTimestamp: time,
    source: {
      component: object.kind === "Pod" ? "kubelet" : `${object.kind?.toLowerCase()}-controller`,
    },
  });
}

export function isReady(pod: KubeJson): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)
    ?.conditions;
  return (
    conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ??
    false
  );
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
