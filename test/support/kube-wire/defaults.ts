import { isObject } from "./apply.js";
import { type ResourceType, typeOfKind } from "./resources.js";
import type { KubeJson, Store } from "./store.js";

// What kube-apiserver adds to an object on every write (defaulting, and the allocators of
// Services): a mirror read back from a live cluster sees these fields, so the double sets
// them too. Fields already set are kept.

type Json = Record<string, unknown>;

export function withDefaults(type: ResourceType, object: KubeJson, store: Store): KubeJson {
  const result = structuredClone(object);
  const spec = (isObject(result.spec) ? result.spec : {}) as Json;
  switch (type.kind) {
    case "Service":
      result.spec = serviceDefaults(
        spec,
        store,
        result.metadata.namespace ?? "default",
        result.metadata.name,
      );
      break;
    case "PersistentVolumeClaim":
      result.spec = { volumeMode: "Filesystem", ...spec };
      result.status ??= { phase: "Pending" };
      break;
    case "Deployment":
      result.spec = {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
        },
        ...spec,
        template: templateDefaults(spec.template),
      };
      break;
    case "StatefulSet":
      result.spec = {
        replicas: 1,
        podManagementPolicy: "OrderedReady",
        revisionHistoryLimit: 10,
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
        ...spec,
        template: templateDefaults(spec.template),
      };
      break;
  }
  return result;
}

function templateDefaults(template: unknown): Json {
  const value = isObject(template) ? template : {};
  const spec = isObject(value.spec) ? value.spec : {};
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  return {
    ...value,
    spec: {
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      terminationGracePeriodSeconds: 30,
      schedulerName: "default-scheduler",
      securityContext: {},
      ...spec,
      containers: containers.map((container: Json) => ({
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
        imagePullPolicy: String(container.image ?? "").endsWith(":latest")
          ? "Always"
          : "IfNotPresent",
        ...container,
      })),
    },
  };
}

function serviceDefaults(spec: Json, store: Store, namespace: string, name: string): Json {
  const services = store.list(requireService());
  const own = services.find(
    (service) => service.metadata.namespace === namespace && service.metadata.name === name,
  );
  const ownSpec = (own?.spec ?? {}) as Json;
  const usedIps = new Set(services.map((service) => (service.spec as Json | undefined)?.clusterIP));
  const usedNodePorts = new Set(
    services.flatMap((service) =>
      (((service.spec as Json | undefined)?.ports as Json[] | undefined) ?? []).map(
        (port) => port.nodePort,
      ),
    ),
  );
  let clusterIP = spec.clusterIP ?? ownSpec.clusterIP;
  for (let host = 11; clusterIP === undefined || clusterIP === ""; host += 1) {
    const candidate = `10.96.${Math.floor(host / 250)}.${host % 250}`;
    if (!usedIps.has(candidate)) clusterIP = candidate;
  }
  const type = spec.type ?? "ClusterIP";
  const ports = ((spec.ports as Json[] | undefined) ?? []).map((port, index) => {
    const withProtocol: Json = { protocol: "TCP", targetPort: port.port, ...port };
    if (type === "NodePort" || type === "LoadBalancer") {
      let nodePort =
        port.nodePort ??
        (((ownSpec.ports as Json[] | undefined) ?? [])[index]?.nodePort as number | undefined);
      for (let candidate = 30000; nodePort === undefined; candidate += 1)
        if (!usedNodePorts.has(candidate)) nodePort = candidate;
      withProtocol.nodePort = nodePort;
    }
    return withProtocol;
  });
  return {
    type,
    sessionAffinity: "None",
    ipFamilies: ["IPv4"],
    ipFamilyPolicy: "SingleStack",
    internalTrafficPolicy: "Cluster",
    ...(type === "NodePort" ? { externalTrafficPolicy: "Cluster" } : {}),
    ...spec,
    clusterIP,
    clusterIPs: clusterIP === "None" ? ["None"] : [clusterIP],
    ports,
  };
}

function requireService(): ResourceType {
  const type = typeOfKind("v1", "Service");
  if (!type) throw new Error("no Service type");
  return type;
}
