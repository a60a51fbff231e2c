import { type IngressRule, servicePortsOf } from "../kube/web-entry.js";
import { environmentHost } from "../topology/hosts.js";
import type { HostRoute, Topology } from "../topology/model.js";
import type { ManifestObject } from "./manifests.js";

// The host names a mirrored layout answers to: the environment's own name for
// production's web entry, and each Ingress rule's (already localized) host to the service
// its first path sends to, at the container port that Service forwards to. No ingress
// controller runs locally: the local router does its routing (src/router).

export function ingressRoutes(
  objects: readonly ManifestObject[],
  topology: Topology,
  web: { service: string; port: number } | undefined,
): HostRoute[] {
  const routes: HostRoute[] = web
    ? [{ host: environmentHost(topology.identity), service: web.service, port: web.port }]
    : [];
  for (const ingress of objects.filter((object) => object.kind === "Ingress")) {
    const rules = (ingress.spec as { rules?: IngressRule[] } | undefined)?.rules ?? [];
    for (const rule of rules) {
      const backend = rule.http?.paths?.[0]?.backend?.service;
      if (!rule.host || !backend) continue;
      const target = serviceTarget(objects, topology, backend.name, backend.port?.number);
      if (target && !routes.some((route) => route.host === rule.host)) {
        routes.push({ host: rule.host, ...target });
      }
    }
  }
  return routes;
}

function serviceTarget(
  objects: readonly ManifestObject[],
  topology: Topology,
  name: string,
  port: number | undefined,
): { service: string; port: number } | undefined {
  const kubeService = objects.find(
    (object) => object.kind === "Service" && object.metadata.name === name,
  );
  const owner = topology.services.find((service) => (service.aliases ?? []).includes(name));
  const ports = kubeService ? servicePortsOf(kubeService) : [];
  const chosen = ports.find((candidate) => candidate.port === port) ?? ports[0];
  if (!owner || !chosen) return undefined;
  // A named target port is the Service's own port number here: the pod listens on the
  // name's number, which only the container spec knows; the Service port is the usual
  // match in the manifests prodlike mirrors, and the container is dialled directly.
  const target = typeof chosen.targetPort === "number" ? chosen.targetPort : chosen.port;
  return { service: owner.name, port: target };
}
