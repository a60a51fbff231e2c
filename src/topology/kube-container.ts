import type {
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1Probe,
  V1VolumeMount,
} from "@kubernetes/client-node";
import {
  type HealthCheck,
  type MountSpec,
  type Platform,
  PlatformToken,
  type ServiceSpec,
  type Topology,
} from "./model.js";
// One service as a container of a pod: image, command, the developer's user, env (secret
// values from the Secret), ports, mounts and probes; and how its config files reach
// other services on a cluster.

/** The Secret that holds the environment's secret env values, by variable name. */
export const SECRET_NAME = "prodlike-secrets";
/** The pod's volume holding config files with the cluster's DNS server filled in. */
export const DNS_RESOLVED_VOLUME = "dns-resolved";
const DNS_TEMPLATES_PATH = "/prodlike/templates";
const DNS_RESOLVED_PATH = "/prodlike/resolved";

export function container(
  topology: Topology,
  service: ServiceSpec,
  secretKeys: ReadonlySet<string>,
): V1Container {
  const rendered: V1Container = {
    name: service.name,
    image: service.image.kind === "build" ? service.image.tag : service.image.ref,
    // Images are loaded into the node, never pulled: with IfNotPresent a loaded image is
    // used, and the content-hash tags are never `latest`.
    imagePullPolicy: "IfNotPresent",
  };
  if (service.entrypoint) rendered.command = service.entrypoint;
  if (service.command) rendered.args = service.command;
  if (service.workingDir) rendered.workingDir = service.workingDir;
  if (service.memoryMb) rendered.resources = { limits: { memory: `${service.memoryMb}Mi` } };
  // The code is a hostPath: what the app writes there must be the developer's, as on compose.
  if (service.user) {
    rendered.securityContext = {
      runAsUser: service.user.uid,
      ...(service.user.gid === undefined ? {} : { runAsGroup: service.user.gid }),
      allowPrivilegeEscalation: false,
    };
  }
  const env = envVars(service, secretKeys);
  if (env.length > 0) rendered.env = env;
  const ports: V1ContainerPort[] = [
    ...service.ports.map((port) => ({
      name: port.name,
      containerPort: port.containerPort,
      protocol: "TCP",
    })),
    ...(service.expose ?? []).map((port) => ({ containerPort: port, protocol: "TCP" })),
  ];
  if (ports.length > 0) rendered.ports = ports;
  // Host files (the ssh agent socket) do not exist on a cluster node: compose only, with
  // the config files only of use beside them.
  const volumeMounts = service.mounts
    .filter((mount) => mount.type !== "host")
    .filter((mount) => !(mount.type === "config" && isHostOnlyFile(topology, mount.file)))
    .map((mount) => volumeMount(topology, mount));
  if (volumeMounts.length > 0) rendered.volumeMounts = volumeMounts;
  Object.assign(rendered, probes(service));
  return rendered;
}

function volumeMount(
  topology: Topology,
  mount: Exclude<MountSpec, { type: "host" }>,
): V1VolumeMount {
  switch (mount.type) {
    case "code":
      return { name: "code", mountPath: topology.codeMountPath };
    case "volume":
      return { name: mount.volume, mountPath: mount.target };
    case "config":
      return {
        name: needsDnsServer(topology, mount.file)
          ? DNS_RESOLVED_VOLUME
          : isSecretFile(topology, mount.file)
            ? "secret-files"
            : "config",
        mountPath: mount.target,
        subPath: mount.file,
        readOnly: true,
      };
  }
}

function isHostOnlyFile(topology: Topology, name: string): boolean {
  return topology.configFiles.some((file) => file.name === name && file.hostOnly === true);
}

// On a cluster a service is reached by its Service name, or on loopback from a container
// of its own pod (nginx -> php-fpm in one pod, as production runs them); the cluster's DNS
// answers. Which pod: the one of the services that mount the file.
export function platformFor(topology: Topology, fileName: string): Platform {
  const readers = topology.services
    .filter((service) =>
      service.mounts.some((mount) => mount.type === "config" && mount.file === fileName),
    )
    .map((service) => service.name);
  const podOf = (service: string) =>
    Object.values(topology.podGroups).find((members) => members.includes(service));
  return {
    address: (service) => {
      const pod = podOf(service);
      const together = readers.length > 0 && readers.every((reader) => pod?.includes(reader));
      return together ? "127.0.0.1" : service;
    },
    // Left as the token: the pod fills in its own DNS server when it starts (below).
    dnsResolver: PlatformToken.dnsResolver,
  };
}

// nginx's `resolver` takes an address, never a name, and the cluster's DNS Service is not
// named alike everywhere (nor ready at first). The pod's /etc/resolv.conf names the DNS
// server the cluster gives its pods (the DNS Service's ClusterIP on every cluster): an
// init container reads it at start and writes the config files that ask for it, with the
// address in, into a volume the service mounts them from.
export function needsDnsServer(topology: Topology, name: string): boolean {
  return topology.configFiles.some(
    (file) =>
      file.name === name && !file.secret && file.content.includes(PlatformToken.dnsResolver),
  );
}

/** The init container that fills the DNS server into `files` (none: no container). */
export function dnsInitContainer(
  service: ServiceSpec,
  files: readonly string[],
): V1Container | undefined {
  if (files.length === 0) return undefined;
  const token = PlatformToken.dnsResolver;
  const script = [
    `ns=$(sed -n 's/^nameserver[[:space:]]*\\([^[:space:]]*\\).*/\\1/p' /etc/resolv.conf | head -n 1)`,
    'if [ -z "$ns" ]; then echo "no nameserver in /etc/resolv.conf" >&2; exit 1; fi',
    'case "$ns" in *:*) ns="[$ns]";; esac',
    `for file in "$@"; do sed "s/${token}/$ns/g" "${DNS_TEMPLATES_PATH}/$file" > "${DNS_RESOLVED_PATH}/$file" || exit 1; done`,
  ].join("\n");
  return {
    name: "resolve-dns",
    image: service.image.kind === "build" ? service.image.tag : service.image.ref,
    imagePullPolicy: "IfNotPresent",
    command: ["sh", "-c", script, "resolve-dns", ...files],
    ...(service.user
      ? {
          securityContext: {
            runAsUser: service.user.uid,
            ...(service.user.gid === undefined ? {} : { runAsGroup: service.user.gid }),
            allowPrivilegeEscalation: false,
          },
        }
      : {}),
    volumeMounts: [
      { name: "config", mountPath: DNS_TEMPLATES_PATH, readOnly: true },
      { name: DNS_RESOLVED_VOLUME, mountPath: DNS_RESOLVED_PATH },
    ],
  };
}

export function isSecretFile(topology: Topology, name: string): boolean {
  return topology.configFiles.some((file) => file.name === name && file.secret === true);
}

// Health check -> probes: startup covers the first start (retries x interval, like the
// compose health check), then readiness gates traffic and liveness restarts a hung
// container. Without a health check, a TCP probe on the first port gates readiness.
function probes(
  service: ServiceSpec,
): Pick<V1Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  if (service.health) {
    const check = execProbe(service.health);
    const period = seconds(service.health.intervalMs);
    return {
      startupProbe: {
        ...check,
        periodSeconds: period,
        failureThreshold:
          service.health.retries +
          Math.ceil(service.health.startPeriodMs / service.health.intervalMs),
      },
      readinessProbe: { ...check, periodSeconds: Math.max(period, 5), failureThreshold: 3 },
      livenessProbe: { ...check, periodSeconds: Math.max(period, 10), failureThreshold: 6 },
    };
  }
  // An http port with a health endpoint: the kubelet asks it, as `up` does.
  const endpoint = service.ports.find((port) => port.protocol === "http" && port.healthPath);
  if (endpoint?.healthPath) {
    return {
      readinessProbe: {
        httpGet: { path: endpoint.healthPath, port: endpoint.containerPort },
        periodSeconds: 2,
        failureThreshold: 3,
      },
    };
  }
  const first = service.ports[0]?.containerPort ?? service.expose?.[0];
  if (first === undefined) return {};
  return { readinessProbe: { tcpSocket: { port: first }, periodSeconds: 2, failureThreshold: 3 } };
}

function execProbe(health: HealthCheck): V1Probe {
  return { exec: { command: health.test }, timeoutSeconds: seconds(health.timeoutMs) };
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

// Env values that are secrets come from the Secret, by the variable's own name, so the
// manifests' pod specs never hold a password.
function envVars(service: ServiceSpec, secretKeys: ReadonlySet<string>): V1EnvVar[] {
  return Object.entries(service.env)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) =>
      secretKeys.has(name)
        ? { name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key: name } } }
        : { name, value },
    );
}

// Env variables whose value is one of the topology's secrets, with that value (the
// first service to set a name wins, as its value is the same secret).
export function secretEnvValues(topology: Topology): Map<string, string> {
  const found = new Map<string, string>();
  for (const service of topology.services) {
    for (const [name, value] of Object.entries(service.env)) {
      if (topology.secrets.includes(value) && !found.has(name)) found.set(name, value);
    }
  }
  return found;
}
