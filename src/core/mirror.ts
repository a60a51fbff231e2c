import os from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import { stringify } from "yaml";
import type { Backend, UpResult } from "../backends/backend.js";
import { openUserSettings, type UserSettings } from "../config/user-settings.js";
import { writeIfChanged } from "../env/generated-files.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { type Skipped, takeInventory } from "../mirror/inventory.js";
import { type ManifestDocument, type ManifestObject, readManifests } from "../mirror/manifests.js";
import { mirrorToCluster } from "../mirror/to-cluster.js";
import { type ComposeAdaptation, mirrorToCompose } from "../mirror/to-compose.js";
import {
  type AppliedTransform,
  applyTransforms,
  CODE_NODE_PATH,
  TRANSFORM_IDS,
  type TransformId,
} from "../mirror/transforms.js";
import { KubeAnnotation, KubeLabel, kubeEnvironmentLabels } from "../topology/kube-labels.js";
import { environmentLabels, Label } from "../topology/labels.js";
import { loadPreset } from "../topology/preset-loader.js";
import { COMPOSE_FILE_VERSION } from "../topology/render-compose.js";
import { FIRST_NODE_PORT } from "../topology/render-kubernetes.js";
import type { Progress } from "../ui/steps.js";
import { chooseHostPorts, resolveTarget, type Target, type TargetOptions } from "./plan.js";
import type { CoreServices } from "./services.js";

// `prodlike mirror --from SOURCE`: production's manifests, localized by the listed
// transforms, written under .prodlike/mirror/ for review (and for parity to compare
// against). Production is only read.

export const MIRROR_DIR = path.join(".prodlike", "mirror");

export interface MirrorReport {
  source: string;
  /** The localized manifests (0600: they hold the local secret values). */
  file: string;
  objects: { kind: string; name: string }[];
  transforms: AppliedTransform[];
  skipped: Skipped[];
  /** The compose project derived from the same objects, and how compose had to differ. */
  compose: { file: string; adaptations: ComposeAdaptation[]; url?: string };
  /** What `up --mirror --backend kind|minikube` adds to the objects on a local cluster. */
  cluster: { namespace: string; adaptations: ComposeAdaptation[] };
}

type MirrorRequest = TargetOptions & {
  from?: string | undefined;
  /** The host port for the web URL; `up --mirror` passes a free one. */
  webPort?: number | undefined;
  /** Read production from a live cluster (read-only: list) instead of files. */
  context?: string | undefined;
  namespace?: string | undefined;
};

export async function mirror(
  services: CoreServices,
  request: MirrorRequest,
): Promise<MirrorReport> {
  return (await mirrorObjects(services, request)).report;
}

/** The report, and the localized objects themselves (what a cluster applies). */
async function mirrorObjects(
  services: CoreServices,
  request: MirrorRequest,
): Promise<{ report: MirrorReport; objects: ManifestObject[] }> {
  const target = await resolveTarget(request);
  const { config, codeRoot } = target.loaded;
  let documents: ManifestDocument[];
  let source: string;
  if (request.context) {
    if (!request.namespace) {
      throw new ProdlikeError("USAGE", "--context needs --namespace", {
        hint: "prodlike mirror --context prod --namespace shop reads one namespace, read-only.",
      });
    }
    const [{ ClientNodeKubeApi }, { readCluster }] = await Promise.all([
      import("../backends/kube/kube-api.js"),
      import("../mirror/live-cluster.js"),
    ]);
    const kubeconfig =
      process.env.KUBECONFIG?.split(path.delimiter)[0] ??
      path.join(os.homedir(), ".kube", "config");
    const client = await ClientNodeKubeApi.objectClient(kubeconfig, request.context).catch(
      (error: unknown) => {
        throw new ProdlikeError("USAGE", `Cannot use context ${request.context} of ${kubeconfig}`, {
          hint: error instanceof Error ? error.message : String(error),
        });
      },
    );
    source = `cluster ${request.context}/${request.namespace}`;
    documents = await readCluster(client, {
      context: request.context,
      namespace: request.namespace,
    });
  } else {
    ({ source, documents } = await readProductionFiles(services, target, request.from, {
      question: "Where are production's manifests?",
      hint: "Pass --from PATH (a folder, a file, a kustomize folder, or - for stdin), --context CTX --namespace NS, or set mirror.from in prodlike.yaml.",
    }));
  }
  const inventory = takeInventory(documents);
  const settings = await openUserSettings();
  const preset = await loadPreset(config.preset);
  const options = config.mirror ?? {};
  const disabled = new Set(
    TRANSFORM_IDS.filter((id) => options.transforms?.[id] === false),
  ) as ReadonlySet<TransformId>;
  // By default the live code goes where the preset mounts it, into the containers named
  // like the preset's code services (php-fpm, nginx's `web`, cli).
  const codeServices = Object.entries(preset.definition.services)
    .filter(([, spec]) => spec.mounts.some((mount) => mount.type === "code"))
    .map(([name]) => name);
  const { objects, applied } = applyTransforms(
    inventory.documents.map((document) => document.object),
    {
      envName: target.identity.name,
      disabled,
      resourceScale: options.resourceScale ?? 0.25,
      images: options.images ?? {},
      secrets: options.secrets ?? {},
      localSecret: (secret, key) =>
        settings.deriveSecret(target.identity.id, `mirror/${secret}/${key}`),
      storageClass: options.storageClass,
      // The containers with the code run as the developer, whichever way they were named.
      codeMount: {
        ...(options.codeMount ?? {
          path: preset.definition.codeMountPath,
          containers: codeServices,
        }),
        user:
          process.getuid && process.getgid
            ? { uid: process.getuid(), gid: process.getgid() }
            : undefined,
      },
    },
  );
  const dir = path.join(codeRoot, MIRROR_DIR);
  const file = path.join(dir, "manifests.yaml");
  const header = `# prodlike mirror of ${request.from === "-" ? "stdin" : source}: production's manifests with the local transforms listed in report.json. Regenerate with \`prodlike mirror\`; do not edit.\n`;
  await writeIfChanged(
    file,
    header + objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n"),
    0o600,
  );
  const compose = await writeCompose(objects, {
    dir: path.join(dir, "compose"),
    codeRoot,
    labels: environmentLabels(target.identity, {
      preset: config.preset,
      backend: "compose",
      codeRoot,
    }),
    webPort: request.webPort ?? config.ports?.web ?? preset.definition.defaults.ports.web ?? 8080,
  });
  // The same layout the cluster backend derives; which images get loaded does not change
  // what it adds, so none are assumed here.
  const cluster = mirrorToCluster(objects, {
    labels: kubeEnvironmentLabels(target.identity, { preset: config.preset, backend: "kind" }),
    defaultNamespace: target.identity.project,
    nodeCodePath: CODE_NODE_PATH,
    localImages: new Set(),
    webNodePort: FIRST_NODE_PORT,
    roleLabel: KubeLabel.role,
    configHashAnnotation: KubeAnnotation.configHash,
  });
  const report: MirrorReport = {
    source,
    file,
    objects: objects.map((object) => ({ kind: object.kind, name: object.metadata.name })),
    transforms: applied,
    skipped: inventory.skipped,
    compose,
    cluster: { namespace: cluster.namespace, adaptations: cluster.adaptations },
  };
  await writeIfChanged(
    path.join(dir, "report.json"),
    `${JSON.stringify(report, null, 2)}\n`,
    0o600,
  );
  return { report, objects };
}

/** Production's manifests from a path: the one given, else `mirror.from` in prodlike.yaml. */
export async function readProductionFiles(
  services: CoreServices,
  target: Target,
  given: string | undefined,
  missing: { question: string; hint: string },
): Promise<{ source: string; documents: ManifestDocument[] }> {
  const { config, codeRoot } = target.loaded;
  const source =
    given ?? (config.mirror?.from ? path.resolve(codeRoot, config.mirror.from) : undefined);
  if (!source) throw new ProdlikeError("USAGE", missing.question, { hint: missing.hint });
  const documents = await readManifests(source, {
    runner: services.runner,
    readStdin: () => text(process.stdin),
  });
  return { source, documents };
}

/**
 * `up --mirror`: production's layout (the compose project `mirror` derives) run as the
 * environment, its web port chosen like a preset's.
 */
export async function upMirror(
  services: CoreServices,
  request: TargetOptions & {
    target: Target;
    backend: Backend;
    settings: UserSettings;
    healthTimeoutMs: number;
  },
  progress: Progress,
): Promise<UpResult> {
  const { target, backend } = request;
  if (!backend.upMirrored) {
    throw new ProdlikeError("NOT_SUPPORTED", `up --mirror does not run on ${backend.name}`, {
      hint: "Use --backend compose, kind or minikube.",
    });
  }
  const { web } = await chooseHostPorts(
    [{ service: "web", name: "web", preferred: target.loaded.config.ports?.web ?? 8080 }],
    target.identity.id,
    backend,
    request.settings,
  );
  const { report, objects } = await mirrorObjects(services, {
    dir: request.dir,
    name: request.name,
    webPort: web,
  });
  const status = await backend.upMirrored(
    {
      identity: target.identity,
      preset: target.loaded.config.preset,
      codeRoot: target.loaded.codeRoot,
      objects,
      compose: { file: report.compose.file, url: report.compose.url },
      webHostPort: web ?? 8080,
    },
    progress,
    { healthTimeoutMs: request.healthTimeoutMs },
  );
  return { status, changed: true };
}

// The compose project beside the manifests: every container, volume and the network
// labelled with the environment (so `destroy` finds them), the web port on 127.0.0.1.
async function writeCompose(
  objects: ManifestObject[],
  options: { dir: string; codeRoot: string; labels: Record<string, string>; webPort: number },
): Promise<{ file: string; adaptations: ComposeAdaptation[]; url?: string }> {
  const derived = mirrorToCompose(objects, {
    codeRoot: options.codeRoot,
    filesDir: path.join(options.dir, "files"),
  });
  for (const file of derived.files) await writeIfChanged(file.path, file.content, 0o600);
  const services = Object.fromEntries(
    Object.entries(derived.services).map(([name, service]) => [
      name,
      {
        ...service,
        labels: {
          ...options.labels,
          ...(service.labels as Record<string, string>),
          [Label.service]: name,
          // status reads the web URL from this label, as for a preset's services.
          ...(derived.web?.service === name
            ? { [Label.ports]: `web:${derived.web.port}:http` }
            : {}),
        },
        ...(derived.web?.service === name
          ? { ports: [`127.0.0.1:${options.webPort}:${derived.web.port}`] }
          : {}),
      },
    ]),
  );
  const document = {
    version: COMPOSE_FILE_VERSION,
    services,
    networks: { default: { labels: options.labels } },
    ...(derived.volumes.length > 0
      ? {
          volumes: Object.fromEntries(
            derived.volumes.map((volume) => [volume, { labels: options.labels }]),
          ),
        }
      : {}),
  };
  const file = path.join(options.dir, "docker-compose.yml");
  await writeIfChanged(
    file,
    // YAML 1.1 as compose reads it (a bare `no` would be false), `$` doubled so compose
    // never interpolates a script or a secret value.
    `# prodlike mirror: production's layout as a compose project (see report.json).\n${stringify(escapeDollars(document), { lineWidth: 0, version: "1.1" })}`,
    0o600,
  );
  return {
    file,
    adaptations: derived.adaptations,
    ...(derived.web ? { url: `http://127.0.0.1:${options.webPort}` } : {}),
  };
}

function escapeDollars<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("$", "$$$$") as T;
  if (Array.isArray(value)) return value.map(escapeDollars) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, escapeDollars(inner)]),
    ) as T;
  }
  return value;
}
