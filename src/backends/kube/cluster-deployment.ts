import type { KubernetesObject } from "@kubernetes/client-node";
import type { ClusterBackendName } from "../../config/backend-registry.js";
import type { RecordedPort } from "../../env/environment-records.js";
import { recordMountpoints, writeCodeFiles } from "../../env/generated-files.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { mirrorToCluster } from "../../kube/cluster-layout.js";
import { KubeAnnotation, KubeLabel, kubeEnvironmentLabels } from "../../topology/kube-labels.js";
import {
  type BuiltImage,
  builtImagesOf,
  type ClusterPlacement,
  type EnvironmentIdentity,
  servicesExplaining,
  type Topology,
} from "../../topology/model.js";
import {
  assignNodePorts,
  FIRST_NODE_PORT,
  renderKubernetes,
} from "../../topology/render-kubernetes.js";
import type { Progress } from "../../ui/steps.js";
import type { CodePlacement } from "./cluster-parts.js";
import type { CodeImage } from "./code-image.js";
import {
  namespaceMarks,
  PULL_SECRET_NAME,
  syncTargets,
  withPlacementObjects,
} from "./placement-objects.js";

// What `deploy` puts on a cluster, from the one model: a preset's topology rendered to
// Kubernetes objects, or, when the topology was imported from production's manifests,
// those objects themselves with what one local cluster needs added. Pure: no cluster.

export interface ClusterDeployment {
  identity: EnvironmentIdentity;
  preset: string;
  codeRoot: string;
  namespace: string;
  /** In apply order. */
  objects: KubernetesObject[];
  /** The same objects as YAML, written 0600 beside the kubeconfig (it holds secrets). */
  yaml: string;
  configHash: string;
  ports: RecordedPort[];
  /** The environment's host names and the NodePort each reaches (the local router); on
   *  an existing cluster, the forwarded port on this machine. */
  routes: { host: string; nodePort: number; hostPort?: number }[];
  /** Preset images to build first; a mirror builds none. */
  build: BuiltImage[];
  /** Image tags to load into the node from this machine. */
  load: string[];
  /** Tags built for this environment, which `destroy` removes. */
  owned: string[];
  webUrl?: string;
  /** Whose logs explain a web URL that does not answer. */
  webLogServices: string[];
  writeFiles(progress: Progress): Promise<void>;
  /** An existing cluster: where the environment goes there (the topology's placement). */
  placement?: ClusterPlacement;
  /** What the namespace carries (an existing cluster's lifecycle makes it). */
  namespaceLabels: Record<string, string>;
  namespaceAnnotations: Record<string, string>;
  /** The image holding the code tree, built after the preset's images (code sent). */
  codeImage?: CodeImage;
  /** The registry login pods pull with (dockerconfigjson): applied on its own, never
   *  written to the manifests file. */
  pullSecret?: string;
  /** What the live sync sends the code into, and what it leaves out. */
  sync?: { targets: { selector: string; container: string; path: string }[]; exclude: string[] };
}

export interface DeploymentContext {
  backend: ClusterBackendName;
  code: CodePlacement;
  /** Published ports are NodePorts the node maps to this machine (else ClusterIP). */
  nodePorts: boolean;
}

export function presetDeployment(
  topology: Topology,
  context: DeploymentContext & {
    codeImage?: CodeImage | undefined;
    /** The developer's registry login as a dockerconfigjson, when the registry has one. */
    pullSecret?: string | undefined;
  },
): ClusterDeployment {
  const nodePorts = context.nodePorts ? assignNodePorts(topology) : {};
  const { placement } = topology;
  if (context.code.kind === "sent" && (!placement || !context.codeImage)) {
    throw new ProdlikeError(
      "INTERNAL",
      "Code sent into the pods needs a placement and a code image",
    );
  }
  const rendered = renderKubernetes(topology, {
    backend: context.backend,
    nodePorts,
    code:
      context.code.kind === "node-mount"
        ? context.code
        : { kind: "image", image: context.codeImage?.tag ?? "" },
    ...(placement
      ? {
          namespace: placement.namespace,
          namespaceObject: false,
          storageClass: placement.storageClass,
          pullSecret: context.pullSecret ? PULL_SECRET_NAME : undefined,
        }
      : {}),
  });
  const manifests = placement ? withPlacementObjects(rendered, topology, placement) : rendered;
  const images = builtImagesOf(topology);
  const webService = topology.services.find((service) =>
    service.ports.some((port) => port.protocol === "http"),
  );
  const web = webService?.ports.find((port) => port.protocol === "http");
  const ports = recordedPorts(topology, nodePorts);
  return {
    identity: topology.identity,
    preset: topology.preset,
    codeRoot: topology.codeRoot,
    namespace: manifests.namespace,
    objects: manifests.objects as KubernetesObject[],
    yaml: manifests.yaml,
    configHash: manifests.configHash,
    ports,
    routes: (topology.routes ?? []).flatMap((route) => {
      const port = ports.find(
        (candidate) =>
          candidate.service === route.service && candidate.containerPort === route.port,
      );
      return port ? [{ host: route.host, nodePort: port.nodePort, hostPort: port.hostPort }] : [];
    }),
    build: images,
    load: [
      ...images.map((image) => image.tag),
      ...(context.codeImage ? [context.codeImage.tag] : []),
    ],
    owned: [
      ...images.map((image) => image.tag),
      ...(context.codeImage ? [context.codeImage.tag] : []),
    ],
    ...namespaceMarks(topology, context.backend),
    ...(placement ? { placement } : {}),
    ...(context.codeImage ? { codeImage: context.codeImage } : {}),
    ...(context.pullSecret ? { pullSecret: context.pullSecret } : {}),
    ...(placement?.code.mode === "sync"
      ? { sync: { targets: syncTargets(manifests.objects), exclude: placement.code.exclude } }
      : {}),
    ...(web ? { webUrl: `http://127.0.0.1:${web.hostPort}${web.healthPath ?? "/"}` } : {}),
    webLogServices: webService ? servicesExplaining(topology, webService) : [],
    // Files mounted inside the code tree (OpenMage's local.xml) get a mountpoint there,
    // made by the node's runtime as on compose: noted, so destroy removes the empty ones.
    writeFiles: async (steps) => {
      await writeCodeFiles(topology, steps);
      await recordMountpoints(topology);
    },
  };
}

/** Production's objects as they are, plus what a local cluster needs; images this
 *  machine holds are loaded into the node, the others are pulled as in production. */
export function mirroredDeployment(
  topology: Topology & { manifests: NonNullable<Topology["manifests"]> },
  context: DeploymentContext & { localImages: ReadonlySet<string> },
): ClusterDeployment {
  if (context.code.kind !== "node-mount") {
    throw new ProdlikeError(
      "NOT_SUPPORTED",
      "`up --mirror` runs on kind or minikube, not on an existing cluster yet",
      {
        hint: "Production's own manifests mount the code from a local node. Run `prodlike up --mirror --backend kind`, or the preset's layout with `--backend cluster`.",
      },
    );
  }
  const cluster = mirrorToCluster(topology.manifests, {
    labels: kubeEnvironmentLabels(topology.identity, {
      preset: topology.preset,
      backend: context.backend,
    }),
    defaultNamespace: topology.identity.project,
    nodeCodePath: context.code.nodeCodePath,
    localImages: context.localImages,
    webNodePort: FIRST_NODE_PORT,
    roleLabel: KubeLabel.role,
    rolesAnnotation: KubeAnnotation.roles,
    configHashAnnotation: KubeAnnotation.configHash,
  });
  const hostPort = topology.services
    .flatMap((service) => service.ports)
    .find((port) => port.name === "web")?.hostPort;
  const ports: RecordedPort[] =
    cluster.web && hostPort !== undefined
      ? [
          {
            name: "web",
            service: cluster.web.container,
            containerPort: cluster.web.containerPort,
            hostPort,
            nodePort: FIRST_NODE_PORT,
            protocol: "http",
          },
        ]
      : [];
  return {
    identity: topology.identity,
    preset: topology.preset,
    codeRoot: topology.codeRoot,
    namespace: cluster.namespace,
    objects: cluster.objects as KubernetesObject[],
    yaml: cluster.yaml,
    configHash: cluster.configHash,
    ports,
    // Only the web entry has a NodePort: the names that go where it goes (the first
    // route is the web entry's own) reach the cluster through it.
    routes: ports[0] ? webEntryRoutes(topology.routes ?? [], FIRST_NODE_PORT) : [],
    build: [],
    load: cluster.images.load,
    // The mirror loads images this machine already had: they are not ours to remove.
    owned: [],
    ...(ports[0] ? { webUrl: `http://127.0.0.1:${ports[0].hostPort}/` } : {}),
    webLogServices: cluster.web ? [cluster.web.container] : [],
    writeFiles: async () => undefined,
    ...namespaceMarks(topology, context.backend),
  };
}

function webEntryRoutes(
  routes: readonly { host: string; service: string; port: number }[],
  nodePort: number,
): { host: string; nodePort: number }[] {
  const [entry] = routes;
  if (!entry) return [];
  return routes
    .filter((route) => route.service === entry.service && route.port === entry.port)
    .map((route) => ({ host: route.host, nodePort }));
}

export function recordedPorts(
  topology: Topology,
  nodePorts: Readonly<Record<string, number>>,
): RecordedPort[] {
  return topology.services.flatMap((service) =>
    service.ports.map((port) => ({
      name: port.name,
      service: service.name,
      containerPort: port.containerPort,
      hostPort: port.hostPort,
      nodePort: nodePorts[port.name] ?? 0,
      protocol: port.protocol,
    })),
  );
}
