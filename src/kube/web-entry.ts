import type { KubeObject as ManifestObject } from "../topology/model.js";
import { podTemplateOf } from "./pods.js";

// Where a browser enters production's layout: the Service the first Ingress rule routes
// to, else the first Service on port 80. Both the compose project and a local cluster
// publish this one on 127.0.0.1.

export interface WebEntry {
  service: ManifestObject;
  /** The Service's port, and the pod port it forwards to (a number or a port name). */
  port: number;
  targetPort: number | string;
}

export interface ServicePort {
  port: number;
  targetPort?: number | string;
}

/** An Ingress rule, as far as prodlike reads it: its host and its paths' backends. */
export interface IngressRule {
  host?: string;
  http?: { paths?: { backend?: { service?: { name: string; port?: { number?: number } } } }[] };
}

/** A Service's ports; none when it declares none. */
export function servicePortsOf(service: ManifestObject): ServicePort[] {
  return (service.spec as { ports?: ServicePort[] } | undefined)?.ports ?? [];
}

export function findWebEntry(objects: readonly ManifestObject[]): WebEntry | undefined {
  const services = objects.filter((object) => object.kind === "Service");
  const ingress = objects.find((object) => object.kind === "Ingress");
  const backend = (ingress?.spec as { rules?: IngressRule[] } | undefined)?.rules?.[0]?.http
    ?.paths?.[0]?.backend?.service;
  const service =
    services.find((candidate) => candidate.metadata.name === (backend?.name ?? "")) ??
    services.find((candidate) => servicePortsOf(candidate).some((port) => port.port === 80));
  if (!service) return undefined;
  const ports = servicePortsOf(service);
  const port =
    ports.find((candidate) => candidate.port === backend?.port?.number) ??
    ports.find((candidate) => candidate.port === 80) ??
    ports[0];
  if (!port) return undefined;
  return { service, port: port.port, targetPort: port.targetPort ?? port.port };
}

/** The pod labels a Service selects by; empty when it selects nothing. */
export function selectorOf(service: ManifestObject): Record<string, string> {
  return (service.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
}

/** The labels on a workload's pods (a CronJob's are in its job template). */
export function podLabels(object: ManifestObject): Record<string, string> {
  return podTemplateOf(object)?.metadata?.labels ?? {};
}

export function selects(service: ManifestObject, labels: Record<string, string>): boolean {
  const selector = Object.entries(selectorOf(service));
  return selector.length > 0 && selector.every(([key, value]) => labels[key] === value);
}

/** A Deployment's or StatefulSet's pods as a label selector (`app=web,tier=front`). */
export function workloadSelector(object: {
  kind?: string | undefined;
  spec?: unknown;
}): string | undefined {
  if (object.kind !== "Deployment" && object.kind !== "StatefulSet") return undefined;
  const labels = (
    object.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined
  )?.selector?.matchLabels;
  const entries = Object.entries(labels ?? {});
  return entries.length > 0
    ? entries.map(([key, value]) => `${key}=${value}`).join(",")
    : undefined;
}
