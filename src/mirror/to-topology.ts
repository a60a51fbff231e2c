import type { Adaptation } from "../kube/adaptation.js";
import { isDatabaseContainer } from "../kube/database-role.js";
import { CODE_NODE_PATH, CODE_VOLUME, podSpecOf } from "../kube/pods.js";
import { findWebEntry, podLabels, selects } from "../kube/web-entry.js";
import { MirrorLabel } from "../topology/labels.js";
import type { EnvironmentIdentity, MountSpec, ServiceSpec, Topology } from "../topology/model.js";
import { ingressRoutes } from "./ingress-routes.js";
import type { ManifestObject } from "./manifests.js";

// Production's mirrored manifests imported into the one model, as a preset is: every
// backend then runs it through its one `up`. A pod becomes its first container's service,
// the other containers share its network (localhost as in a pod); Services become
// network aliases of the pods they select; ConfigMap and Secret values become environment
// entries and read-only config files; claims become named volumes; init containers run
// once before their pod; a CronJob becomes a loop that runs the job on its schedule, one
// run after the other, so runs never overlap. The objects themselves travel along
// (`manifests`): a cluster applies them as they are.

export interface MirrorImportOptions {
  identity: EnvironmentIdentity;
  preset: string;
  codeRoot: string;
  /** Where the preset mounts the code: the default path for the code in the model. */
  codeMountPath: string;
  /** The port on 127.0.0.1 production's web entry is published on. */
  webHostPort: number;
}

export interface MirrorImport {
  topology: Topology;
  /** How the services differ from the pods they came from. */
  adaptations: Adaptation[];
  /** The service production's traffic enters by, and its container port. */
  web?: { service: string; port: number };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { configMapKeyRef?: Ref; secretKeyRef?: Ref };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}

interface Ref {
  name: string;
  key: string;
}

interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: unknown;
  hostPath?: { path: string };
}

export function mirrorToTopology(
  objects: readonly ManifestObject[],
  options: MirrorImportOptions,
): MirrorImport {
  const { data, secrets } = configData(objects);
  const topology: Topology = {
    identity: options.identity,
    preset: options.preset,
    codeRoot: options.codeRoot,
    codeMountPath: options.codeMountPath,
    services: [],
    volumes: [],
    configFiles: [],
    codeFiles: [],
    codeFolders: [],
    secrets: [...secrets],
    podGroups: {},
    manifests: objects,
  };
  const adaptations: Adaptation[] = [];
  const volumes = new Set<string>();
  const kubeServices = objects.filter((object) => object.kind === "Service");
  for (const object of objects) {
    if (!WORKLOAD_KINDS.has(object.kind)) continue;
    importWorkload(object, { data, topology, volumes, kubeServices, adaptations });
  }
  const web = publishWebEntry(objects, topology, options.webHostPort);
  topology.volumes = [...volumes].sort().map((name) => ({ name }));
  topology.routes = ingressRoutes(objects, topology, web);
  return { topology, adaptations, ...(web ? { web } : {}) };
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "CronJob", "Job"]);

/** ConfigMap and Secret values by `configmap/NAME` / `secret/NAME`, and the secret values
 *  (local ones: the mirror replaced production's) to redact from every log line. */
function configData(objects: readonly ManifestObject[]): {
  data: Map<string, Record<string, string>>;
  secrets: Set<string>;
} {
  const data = new Map<string, Record<string, string>>();
  const secrets = new Set<string>();
  for (const object of objects) {
    if (object.kind === "ConfigMap")
      data.set(`configmap/${object.metadata.name}`, {
        ...((object.data as Record<string, string>) ?? {}),
      });
    if (object.kind === "Secret") {
      const values = { ...((object.stringData as Record<string, string>) ?? {}) };
      data.set(`secret/${object.metadata.name}`, values);
      for (const value of Object.values(values)) if (value.length >= 4) secrets.add(value);
    }
  }
  return { data, secrets };
}

interface ImportContext {
  data: ReadonlyMap<string, Record<string, string>>;
  topology: Topology;
  volumes: Set<string>;
  kubeServices: readonly ManifestObject[];
  adaptations: Adaptation[];
}

// One workload's pod: its init containers (run once, first), its first container (the
// pod's service, with the Services selecting it as aliases), the others sharing its
// network.
function importWorkload(object: ManifestObject, context: ImportContext): void {
  const { topology } = context;
  const pod = podSpecOf(object) as
    | { containers?: Container[]; initContainers?: Container[]; volumes?: Volume[] }
    | undefined;
  const containers = pod?.containers ?? [];
  const first = containers[0];
  if (!first) return;
  const podName = object.metadata.name;
  const note = (detail: string) =>
    context.adaptations.push({ kind: object.kind, name: podName, detail });
  const serviceFor = containerImporter(
    object,
    podVolumes(object, pod?.volumes ?? []),
    context,
    note,
  );

  const inits = (pod?.initContainers ?? []).map((container) => {
    const service = serviceFor(`${podName}-init-${container.name}`, container, "init");
    topology.services.push(service);
    return service.name;
  });
  const main = serviceFor(podName, first, "main");
  main.dependsOn = inits.map((name) => ({ service: name, condition: "completed" as const }));
  const labels = podLabels(object);
  const aliases = context.kubeServices
    .filter((service) => selects(service, labels))
    .map((service) => service.metadata.name);
  if (aliases.length > 0) main.aliases = aliases;
  if (object.kind === "CronJob") {
    const schedule = (object.spec as { schedule?: string }).schedule ?? "* * * * *";
    const job = [...(main.entrypoint ?? []), ...(main.command ?? [])];
    main.entrypoint = ["sh", "-c", CRON_LOOP, "prodlike-cron", schedule];
    main.command = job;
    note(
      `schedule "${schedule}" run by a loop in the job's container: one run after another, never two at once`,
    );
  } else if (object.kind === "Job") {
    main.runsOnce = true;
  }
  topology.services.push(main);
  const members = [main.name];
  for (const sidecar of containers.slice(1)) {
    const service = serviceFor(`${podName}-${sidecar.name}`, sidecar, "sidecar");
    service.networkOf = podName;
    service.dependsOn = [{ service: podName, condition: "started" }];
    topology.services.push(service);
    members.push(service.name);
  }
  topology.podGroups[podName] = members;
  if (containers.length > 1)
    note(
      `containers ${containers
        .slice(1)
        .map((c) => c.name)
        .join(", ")} share ${podName}'s network, as in the pod`,
    );
}

/** The pod's volumes by name; a StatefulSet's claim templates are volumes of its pod too. */
function podVolumes(object: ManifestObject, declared: readonly Volume[]): Map<string, Volume> {
  const volumes = new Map(declared.map((volume) => [volume.name, volume]));
  const templates =
    (object.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] } | undefined)
      ?.volumeClaimTemplates ?? [];
  for (const template of templates) {
    const name = template.metadata?.name;
    if (name) {
      const claimName = `${object.metadata.name}-${name}`;
      volumes.set(name, { name, persistentVolumeClaim: { claimName } });
    }
  }
  return volumes;
}

/** Makes one container of the workload a service of the model. */
function containerImporter(
  object: ManifestObject,
  volumes: ReadonlyMap<string, Volume>,
  context: ImportContext,
  note: (detail: string) => void,
): (name: string, container: Container, role: "main" | "sidecar" | "init") => ServiceSpec {
  const mountContext: MountContext = {
    podName: object.metadata.name,
    data: context.data,
    topology: context.topology,
    volumes: context.volumes,
  };
  return (name, container, role) => {
    const service: ServiceSpec = {
      name,
      role: role !== "init" && isDatabaseContainer(container) ? "db" : "app",
      image: { kind: "pull", ref: container.image ?? "" },
      env: environmentOf(container, context.data, note),
      ports: [],
      mounts: (container.volumeMounts ?? []).flatMap((mount) =>
        mountOf(mount, volumes.get(mount.name), mountContext),
      ),
      dependsOn: [],
      labels: {
        [MirrorLabel.workload]: `${object.kind}/${object.metadata.name}`,
        [MirrorLabel.container]: container.name,
        // Parity tells init containers from the others by this, not by a name.
        ...(role === "init" ? { [MirrorLabel.init]: "true" } : {}),
      },
    };
    if (container.command) service.entrypoint = container.command;
    if (container.args) service.command = container.args;
    if (container.workingDir) service.workingDir = container.workingDir;
    const runAs = container.securityContext;
    if (runAs?.runAsUser !== undefined) {
      service.user = {
        uid: runAs.runAsUser,
        ...(runAs.runAsGroup === undefined ? {} : { gid: runAs.runAsGroup }),
      };
    }
    if (role === "init") service.runsOnce = true;
    return service;
  };
}

/** Where production's traffic enters, published on 127.0.0.1: the web URL. */
function publishWebEntry(
  objects: readonly ManifestObject[],
  topology: Topology,
  hostPort: number,
): MirrorImport["web"] {
  const entry = findWebEntry(objects);
  const owner = entry
    ? topology.services.find((service) =>
        (service.aliases ?? []).includes(entry.service.metadata.name),
      )
    : undefined;
  if (!entry || !owner) return undefined;
  const port = typeof entry.targetPort === "number" ? entry.targetPort : entry.port;
  owner.role = "web";
  owner.ports = [{ name: "web", containerPort: port, hostPort, protocol: "http" }];
  return { service: owner.name, port };
}

function environmentOf(
  container: Container,
  data: ReadonlyMap<string, Record<string, string>>,
  note: (detail: string) => void,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const key = source.configMapRef
      ? `configmap/${source.configMapRef.name}`
      : `secret/${source.secretRef?.name ?? ""}`;
    Object.assign(environment, data.get(key) ?? {});
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) environment[variable.name] = variable.value;
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const kind = variable.valueFrom?.configMapKeyRef ? "configmap" : "secret";
    const value = data.get(`${kind}/${ref.name}`)?.[ref.key];
    if (value === undefined)
      note(
        `${container.name}: ${variable.name} refers to ${kind} ${ref.name}/${ref.key}, which the manifests do not define: left empty`,
      );
    environment[variable.name] = value ?? "";
  }
  return Object.fromEntries(Object.entries(environment).sort(([a], [b]) => a.localeCompare(b)));
}

interface MountContext {
  podName: string;
  data: ReadonlyMap<string, Record<string, string>>;
  topology: Topology;
  volumes: Set<string>;
}

function mountOf(
  mount: NonNullable<Container["volumeMounts"]>[number],
  volume: Volume | undefined,
  context: MountContext,
): MountSpec[] {
  if (!volume) return [];
  if (volume.name === CODE_VOLUME || volume.hostPath?.path === CODE_NODE_PATH) {
    return [{ type: "code", target: mount.mountPath }];
  }
  const source = volume.configMap
    ? { kind: "configmap", name: volume.configMap.name }
    : volume.secret
      ? { kind: "secret", name: volume.secret.secretName }
      : undefined;
  if (source) {
    // The folder of the object's keys among the config files: `configmap-nginx/…`.
    const files = `${source.kind}-${source.name}`;
    const values = context.data.get(`${source.kind}/${source.name}`) ?? {};
    for (const [key, content] of Object.entries(values)) {
      const name = `${files}/${key}`;
      if (!context.topology.configFiles.some((file) => file.name === name)) {
        context.topology.configFiles.push({
          name,
          content,
          ...(volume.secret ? { secret: true } : {}),
        });
      }
    }
    return [
      {
        type: "config",
        file: mount.subPath ? `${files}/${mount.subPath}` : files,
        target: mount.mountPath,
      },
    ];
  }
  // A claim, or an emptyDir the pod's containers share: a named volume.
  const name = volume.persistentVolumeClaim?.claimName ?? `${context.podName}-${volume.name}`;
  context.volumes.add(name);
  return [
    {
      type: "volume",
      volume: name,
      target: mount.mountPath,
      ...(mount.readOnly ? { readOnly: true } : {}),
    },
  ];
}

// $1: the schedule; the job is the rest. Every minute, runs the job when the five fields
// match the time (*, */n, a-b and lists); the loop waits for a run to end, so a run that
// outlives its interval makes the next one skip instead of overlap.
export const CRON_LOOP = `set -f
schedule=$1; shift
read -r f1 f2 f3 f4 f5 <<END
$schedule
END
field() {
  v=$1; ok=1; saved=$IFS; IFS=,
  for part in $2; do
    case $part in
      "*") ok=0 ;;
      "*/"*) [ $((v % \${part#*/})) -eq 0 ] && ok=0 ;;
      *-*) [ "$v" -ge "\${part%-*}" ] && [ "$v" -le "\${part#*-}" ] && ok=0 ;;
      *) [ "$v" -eq "$part" ] && ok=0 ;;
    esac
  done
  IFS=$saved; return $ok
}
now() { date +"$1" | sed 's/^0\\(.\\)/\\1/'; }
while :; do
  sleep $((60 - $(now %S)))
  if field "$(now %M)" "$f1" && field "$(now %H)" "$f2" && field "$(now %d)" "$f3" && field "$(now %m)" "$f4" && field "$(date +%w)" "$f5"; then
    echo "prodlike-cron: $(date -u +%Y-%m-%dT%H:%M:%SZ) run"
    "$@" || echo "prodlike-cron: the run failed (exit $?)"
  fi
done`;
