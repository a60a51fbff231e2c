import { mkdir } from "node:fs/promises";
import path from "node:path";
import { text } from "node:stream/consumers";
import { stringify } from "yaml";
import { z } from "zod";
import type { Backend } from "../backends/backend.js";
import { openUserSettings } from "../config/user-settings.js";
import { TRANSFORM_IDS, type TransformId } from "../config/vocabulary.js";
import { writeIfChanged } from "../env/generated-files.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Adaptation } from "../kube/adaptation.js";
import { mirrorToCluster } from "../kube/cluster-layout.js";
import { CODE_NODE_PATH } from "../kube/pods.js";
import { type Skipped, takeInventory } from "../mirror/inventory.js";
import { type ManifestDocument, readManifests } from "../mirror/manifests.js";
import { mirrorToTopology } from "../mirror/to-topology.js";
import { type AppliedTransform, applyTransforms } from "../mirror/transforms.js";
import { readStateOrNothing } from "../state/json-state.js";
import { loadComposeBase } from "../topology/compose-base.js";
import { KubeAnnotation, KubeLabel, kubeEnvironmentLabels } from "../topology/kube-labels.js";
import type { BuiltImage, Topology } from "../topology/model.js";
import { presetServiceImage } from "../topology/preset-importer.js";
import { type LoadedPreset, loadPreset } from "../topology/preset-loader.js";
import { renderCompose } from "../topology/render-compose.js";
import { FIRST_NODE_PORT } from "../topology/render-kubernetes.js";
import {
  chooseHostPorts,
  hostArch,
  type PortReserver,
  resolveTarget,
  type Target,
  type TargetOptions,
} from "./plan.js";
import type { CoreServices } from "./services.js";

// `prodlike mirror --from SOURCE`: production's manifests, localized by the listed
// transforms, written under .prodlike/mirror/ for review (and for parity to compare
// against). Production is only read.

export const MIRROR_DIR = path.join(".prodlike", "mirror");

export interface MirrorReport {
  source: string;
  /** Where production was read from, so `up --mirror` reads it again the same way. */
  origin: MirrorOrigin;
  /** The localized manifests (0600: they hold the local secret values). */
  file: string;
  objects: { kind: string; name: string }[];
  transforms: AppliedTransform[];
  skipped: Skipped[];
  /** The compose project imported from the same objects (for review), and how compose
   *  runs them differently from a pod. */
  compose: { file: string; adaptations: Adaptation[]; url?: string };
  /** What `up --mirror --backend kind|minikube` adds to the objects on a local cluster. */
  cluster: { namespace: string; adaptations: Adaptation[] };
}

export type MirrorOrigin = { from: string } | { context: string; namespace: string };

type MirrorRequest = TargetOptions & {
  from?: string | undefined;
  /** Read production from a live cluster (read-only: list) instead of files. */
  context?: string | undefined;
  namespace?: string | undefined;
};

export async function mirror(
  services: CoreServices,
  request: MirrorRequest,
): Promise<MirrorReport> {
  const target = await resolveTarget(services, request);
  const port = target.loaded.config.ports?.web ?? 8080;
  return (await importProduction(services, target, request, port)).report;
}

/**
 * `up --mirror`: production's layout imported into the model, as a preset is, with the
 * web entry on a free 127.0.0.1 port chosen like a preset's. Without --from or
 * --context, production is read where the last `prodlike mirror` read it (else
 * `mirror.from`).
 */
export async function mirroredTopology(
  services: CoreServices,
  target: Target,
  request: MirrorRequest & { backend: Backend; reservations: PortReserver },
): Promise<Topology> {
  const { web } = await chooseHostPorts(
    [{ service: "web", name: "web", preferred: target.loaded.config.ports?.web ?? 8080 }],
    target.identity.id,
    request.backend,
    request.reservations,
  );
  return (await importProduction(services, target, request, web ?? 8080)).topology;
}

/** Where the last `prodlike mirror` read production, when it can be read again. */
export async function lastOrigin(codeRoot: string): Promise<Partial<MirrorOrigin>> {
  // A report that says nothing readable of its origin leaves it to --from or mirror.from.
  const report = await readStateOrNothing(
    path.join(codeRoot, MIRROR_DIR, "report.json"),
    z.object({
      origin: z
        .union([
          z.object({ from: z.string() }),
          z.object({ context: z.string(), namespace: z.string() }),
        ])
        .optional(),
    }),
  );
  const recorded = report?.origin;
  return recorded && !("from" in recorded && recorded.from === "-") ? recorded : {};
}

/** Reads production, localizes it and imports it into the model; writes what the user
 *  reviews (manifests.yaml, report.json, a compose file) under .prodlike/mirror/. */
async function importProduction(
  services: CoreServices,
  target: Target,
  request: MirrorRequest,
  webHostPort: number,
): Promise<{ report: MirrorReport; topology: Topology }> {
  const { config, codeRoot } = target.loaded;
  const { source, origin, documents } = await readProduction(services, target, request);
  const inventory = takeInventory(documents);
  const settings = await openUserSettings(services.env);
  const preset = await loadPreset(config.preset);
  const options = config.mirror ?? {};
  const disabled = new Set(
    TRANSFORM_IDS.filter((id) => options.transforms?.[id] === false),
  ) as ReadonlySet<TransformId>;
  // By default the live code goes where the preset mounts it, into the containers named
  // like the preset's code services (php-fpm, nginx's `web`, cli).
  const localImages = await presetImages(preset, target);
  const codeServices = Object.entries(preset.definition.services)
    .filter(([, spec]) => spec.mounts.some((mount) => mount.type === "code"))
    .map(([name]) => name);
  const { objects, applied } = applyTransforms(
    inventory.documents.map((document) => document.object),
    {
      envName: target.identity.name,
      project: target.identity.project,
      disabled,
      resourceScale: options.resourceScale ?? 0.25,
      images: localImages.refs,
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
        user: services.developer,
      },
    },
  );
  const dir = path.join(codeRoot, MIRROR_DIR);
  const file = path.join(dir, "manifests.yaml");
  const header = `# prodlike mirror of ${source === "-" ? "stdin" : source}: production's manifests with the local transforms listed in report.json. Regenerate with \`prodlike mirror\`; do not edit.\n`;
  await writeIfChanged(
    file,
    header + objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n"),
    0o600,
  );
  const imported = mirrorToTopology(objects, {
    identity: target.identity,
    preset: config.preset,
    codeRoot,
    codeMountPath: preset.definition.codeMountPath,
    webHostPort,
  });
  // Production's images mapped to a preset's build are built by `up`, as a preset's are.
  imported.topology.services = imported.topology.services.map((service) => {
    const built = service.image.kind === "pull" && localImages.builds.get(service.image.ref);
    return built ? { ...service, image: built } : service;
  });
  const composeFile = await writeComposePreview(imported.topology, path.join(dir, "compose"));
  // The same layout the cluster backend derives; which images get loaded does not change
  // what it adds, so none are assumed here.
  const cluster = mirrorToCluster(objects, {
    labels: kubeEnvironmentLabels(target.identity, { preset: config.preset, backend: "kind" }),
    defaultNamespace: target.identity.project,
    nodeCodePath: CODE_NODE_PATH,
    localImages: new Set(),
    webNodePort: FIRST_NODE_PORT,
    roleLabel: KubeLabel.role,
    rolesAnnotation: KubeAnnotation.roles,
    configHashAnnotation: KubeAnnotation.configHash,
  });
  const report: MirrorReport = {
    source,
    origin,
    file,
    objects: objects.map((object) => ({ kind: object.kind, name: object.metadata.name })),
    transforms: applied,
    skipped: inventory.skipped,
    compose: {
      file: composeFile,
      adaptations: imported.adaptations,
      ...(imported.web ? { url: `http://127.0.0.1:${webHostPort}` } : {}),
    },
    cluster: { namespace: cluster.namespace, adaptations: cluster.adaptations },
  };
  await writeIfChanged(
    path.join(dir, "report.json"),
    `${JSON.stringify(report, null, 2)}\n`,
    0o600,
  );
  return { report, topology: imported.topology };
}

/** `mirror.images` with each `preset:SERVICE` resolved to the image the preset builds for
 *  that service at the versions prodlike.yaml chooses (`php`, `database`, …). */
async function presetImages(
  preset: LoadedPreset,
  target: Target,
): Promise<{ refs: Record<string, string>; builds: Map<string, BuiltImage> }> {
  const { config } = target.loaded;
  const refs: Record<string, string> = {};
  const builds = new Map<string, BuiltImage>();
  const locate = await target.loaded.locator();
  for (const [production, local] of Object.entries(config.mirror?.images ?? {})) {
    const service = /^preset:(.+)$/.exec(local)?.[1];
    if (service === undefined) {
      refs[production] = local;
      continue;
    }
    const image = presetServiceImage(preset, config, service, {
      hostArch: hostArch(),
      configLocation: locate,
    });
    if (image?.kind !== "build") {
      throw new ProdlikeError(
        "CONFIG_INVALID",
        `${locate(["mirror", "images", production])}: the ${preset.definition.name} preset builds no image for \`${service}\``,
        {
          hint: `Its services with an image build: ${Object.entries(preset.definition.services)
            .filter(([, spec]) => spec.build)
            .map(([name]) => `preset:${name}`)
            .join(", ")}.`,
        },
      );
    }
    refs[production] = image.tag;
    builds.set(image.tag, image);
  }
  return { refs, builds };
}

// The compose project `up --mirror` would run, rendered by the one compose renderer,
// for review and diff; `up` renders its own under .prodlike/NAME/.
async function writeComposePreview(topology: Topology, dir: string): Promise<string> {
  const rendered = renderCompose(topology, {
    configDir: path.join(dir, "config"),
    base: await loadComposeBase(),
  });
  for (const config of rendered.configFiles) {
    await mkdir(path.dirname(path.join(dir, "config", config.name)), {
      recursive: true,
      mode: 0o700,
    });
    await writeIfChanged(path.join(dir, "config", config.name), config.content, 0o600);
  }
  const file = path.join(dir, "docker-compose.yml");
  await writeIfChanged(file, rendered.yaml, 0o600);
  return file;
}

/** Production's objects: from the files or the live cluster named, else where the last
 *  `prodlike mirror` read them (a context and namespace are read again, read-only). */
export async function readProduction(
  services: CoreServices,
  target: Target,
  given: MirrorRequest,
): Promise<{ source: string; origin: MirrorOrigin; documents: ManifestDocument[] }> {
  // Nothing named: read production where the last `prodlike mirror` read it.
  const last = given.from || given.context ? {} : await lastOrigin(target.loaded.codeRoot);
  const request = "context" in last ? { ...given, ...last } : given;
  if (!request.context) {
    const read = await readProductionFiles(
      services,
      target,
      request.from,
      {
        question: "Where are production's manifests?",
        hint: "Pass --from PATH (a folder, a file, a kustomize folder, or - for stdin), --context CTX --namespace NS, or set mirror.from in prodlike.yaml.",
      },
      last,
    );
    return { ...read, origin: { from: read.source } };
  }
  if (!request.namespace) {
    throw new ProdlikeError("USAGE", "--context needs --namespace", {
      hint: "prodlike mirror --context prod --namespace shop reads one namespace, read-only.",
    });
  }
  const { context, namespace } = request;
  const { readCluster } = await import("../mirror/live-cluster.js");
  const kubeconfig = services.kubeconfigPath;
  const client = await services.productionCluster(context).catch((error: unknown) => {
    throw new ProdlikeError("USAGE", `Cannot use context ${context} of ${kubeconfig}`, {
      hint: error instanceof Error ? error.message : String(error),
    });
  });
  return {
    source: `cluster ${context}/${namespace}`,
    origin: { context, namespace },
    documents: await readCluster(client, { context, namespace }),
  };
}

/** Production's manifests from a path: the one given, else where the last `prodlike
 *  mirror` read them, else `mirror.from` in prodlike.yaml. */
export async function readProductionFiles(
  services: CoreServices,
  target: Target,
  given: string | undefined,
  missing: { question: string; hint: string },
  /** The last mirror's origin, when the caller has read it already. */
  known?: Partial<MirrorOrigin>,
): Promise<{ source: string; documents: ManifestDocument[] }> {
  const { config, codeRoot } = target.loaded;
  // What the user last mirrored is their latest word on where production is.
  const last = given === undefined ? (known ?? (await lastOrigin(codeRoot))) : {};
  const source =
    given ??
    ("from" in last ? last.from : undefined) ??
    (config.mirror?.from ? path.resolve(codeRoot, config.mirror.from) : undefined);
  if (!source) throw new ProdlikeError("USAGE", missing.question, { hint: missing.hint });
  const documents = await readManifests(source, {
    runner: services.runner,
    readStdin: () => text(process.stdin),
  });
  return { source, documents };
}
