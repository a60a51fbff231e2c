import path from "node:path";
import { MirrorLabel } from "../topology/labels.js";
import type { ManifestObject } from "./manifests.js";
import { CODE_NODE_PATH, CODE_VOLUME, podSpecOf } from "./transforms.js";
import { findWebEntry, podLabels, selects } from "./web-entry.js";

// The mirrored manifests as a compose project, so `up --backend compose` runs
// production's layout too. A pod becomes its first container's service, the other
// containers share its network (`network_mode: service:POD`, localhost as in a pod);
// Services become network aliases of the pods they select; ConfigMap and Secret values
// become environment entries and read-only files; claims become named volumes; init
// containers run once before their pod; a CronJob becomes a loop that runs the job on
// its schedule, one run after the other, so runs never overlap.

export interface ComposeAdaptation {
  kind: string;
  name: string;
  detail: string;
}

export interface MirroredCompose {
  services: Record<string, Record<string, unknown>>;
  volumes: string[];
  /** Files to write under filesDir (ConfigMap / Secret keys mounted as files). */
  files: { path: string; content: string }[];
  adaptations: ComposeAdaptation[];
  /** The compose service the web URL points at, and its container port. */
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

export function mirrorToCompose(
  objects: readonly ManifestObject[],
  options: { codeRoot: string; filesDir: string },
): MirroredCompose {
  const data = new Map<string, Record<string, string>>();
  for (const object of objects) {
    if (object.kind === "ConfigMap")
      data.set(`configmap/${object.metadata.name}`, {
        ...((object.data as Record<string, string>) ?? {}),
      });
    if (object.kind === "Secret")
      data.set(`secret/${object.metadata.name}`, {
        ...((object.stringData as Record<string, string>) ?? {}),
      });
  }
  const result: MirroredCompose = { services: {}, volumes: [], files: [], adaptations: [] };
  const services = objects.filter((object) => object.kind === "Service");
  const volumes = new Set<string>();

  for (const object of objects) {
    if (!["Deployment", "StatefulSet", "CronJob", "Job"].includes(object.kind)) continue;
    const pod = podSpecOf(object) as
      | { containers?: Container[]; initContainers?: Container[]; volumes?: Volume[] }
      | undefined;
    const containers = pod?.containers ?? [];
    const first = containers[0];
    if (!first) continue;
    const podName = object.metadata.name;
    const podVolumes = new Map((pod?.volumes ?? []).map((volume) => [volume.name, volume]));
    // A StatefulSet's claim templates are volumes of its pod too.
    const templates =
      (object.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] } | undefined)
        ?.volumeClaimTemplates ?? [];
    for (const template of templates) {
      const name = template.metadata?.name;
      if (name)
        podVolumes.set(name, { name, persistentVolumeClaim: { claimName: `${podName}-${name}` } });
    }
    const labels = podLabels(object);
    const aliases = services
      .filter((service) => selects(service, labels))
      .map((service) => service.metadata.name);
    const note = (detail: string) =>
      result.adaptations.push({ kind: object.kind, name: podName, detail });

    const serviceFor = (
      container: Container,
      role: "main" | "sidecar" | "init",
    ): Record<string, unknown> => {
      const rendered: Record<string, unknown> = {
        image: container.image ?? "",
        labels: {
          [MirrorLabel.workload]: `${object.kind}/${podName}`,
          [MirrorLabel.container]: container.name,
          // Parity tells init containers from the others by this, not by a name.
          ...(role === "init" ? { [MirrorLabel.init]: "true" } : {}),
        },
      };
      const environment = environmentOf(container, data, note);
      if (Object.keys(environment).length > 0) rendered.environment = environment;
      if (container.command) rendered.entrypoint = container.command;
      if (container.args) rendered.command = container.args;
      if (container.workingDir) rendered.working_dir = container.workingDir;
      const runAs = container.securityContext;
      if (runAs?.runAsUser !== undefined) {
        rendered.user = `${runAs.runAsUser}${runAs.runAsGroup === undefined ? "" : `:${runAs.runAsGroup}`}`;
      }
      const mounts = (container.volumeMounts ?? []).flatMap((mount) =>
        mountOf(mount, podVolumes.get(mount.name), {
          podName,
          options,
          data,
          result,
          volumes,
          note,
        }),
      );
      if (mounts.length > 0) rendered.volumes = mounts;
      if (role === "init") rendered.restart = "no";
      return rendered;
    };

    const main = serviceFor(first, "main");
    const inits = (pod?.initContainers ?? []).map((container) => {
      const name = `${podName}-init-${container.name}`;
      result.services[name] = serviceFor(container, "init");
      return name;
    });
    if (inits.length > 0) {
      main.depends_on = Object.fromEntries(
        inits.map((name) => [name, { condition: "service_completed_successfully" }]),
      );
    }
    if (aliases.length > 0) main.networks = { default: { aliases } };
    if (object.kind === "CronJob") {
      const schedule = (object.spec as { schedule?: string }).schedule ?? "* * * * *";
      const job = [
        ...((main.entrypoint as string[] | undefined) ?? []),
        ...((main.command as string[] | undefined) ?? []),
      ];
      main.entrypoint = ["sh", "-c", CRON_LOOP, "prodlike-cron", schedule];
      main.command = job;
      note(
        `schedule "${schedule}" run by a loop in the job's container: one run after another, never two at once`,
      );
    } else if (object.kind === "Job") {
      main.restart = "no";
    }
    result.services[podName] = main;
    for (const sidecar of containers.slice(1)) {
      const rendered = serviceFor(sidecar, "sidecar");
      rendered.network_mode = `service:${podName}`;
      rendered.depends_on = { [podName]: { condition: "service_started" } };
      result.services[`${podName}-${sidecar.name}`] = rendered;
    }
    if (containers.length > 1)
      note(
        `containers ${containers
          .slice(1)
          .map((c) => c.name)
          .join(", ")} share ${podName}'s network, as in the pod`,
      );
  }

  // The web URL: where production's traffic enters.
  const web = findWebEntry(objects);
  if (web) {
    const owner = Object.entries(result.services).find(([, service]) =>
      (
        (service.networks as { default?: { aliases?: string[] } } | undefined)?.default?.aliases ??
        []
      ).includes(web.service.metadata.name),
    );
    if (owner)
      result.web = {
        service: owner[0],
        port: typeof web.targetPort === "number" ? web.targetPort : web.port,
      };
  }
  result.volumes = [...volumes].sort();
  return result;
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

function mountOf(
  mount: NonNullable<Container["volumeMounts"]>[number],
  volume: Volume | undefined,
  context: {
    podName: string;
    options: { codeRoot: string; filesDir: string };
    data: ReadonlyMap<string, Record<string, string>>;
    result: MirroredCompose;
    volumes: Set<string>;
    note: (detail: string) => void;
  },
): string[] {
  if (!volume) return [];
  const readOnly = mount.readOnly ? ":ro" : "";
  if (volume.name === CODE_VOLUME || volume.hostPath?.path === CODE_NODE_PATH) {
    return [`${context.options.codeRoot}:${mount.mountPath}`];
  }
  const files = volume.configMap
    ? `configmap/${volume.configMap.name}`
    : volume.secret
      ? `secret/${volume.secret.secretName}`
      : undefined;
  if (files) {
    const dir = path.join(context.options.filesDir, files.replace("/", "-"));
    for (const [key, content] of Object.entries(context.data.get(files) ?? {})) {
      if (!context.result.files.some((file) => file.path === path.join(dir, key))) {
        context.result.files.push({ path: path.join(dir, key), content });
      }
    }
    return [
      mount.subPath
        ? `${path.join(dir, mount.subPath)}:${mount.mountPath}:ro`
        : `${dir}:${mount.mountPath}:ro`,
    ];
  }
  // A claim, or an emptyDir the pod's containers share: a named volume.
  const name = volume.persistentVolumeClaim?.claimName ?? `${context.podName}-${volume.name}`;
  context.volumes.add(name);
  return [`${name}:${mount.mountPath}${readOnly}`];
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
