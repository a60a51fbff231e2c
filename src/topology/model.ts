// The one in-memory model of an environment. Two importers build it: a preset with
// prodlike.yaml (topology/preset-importer.ts) and production's mirrored manifests
// (mirror/to-topology.ts). Each backend renders and applies it through its one `up`:
// compose renders the services (topology/render-compose.ts), a cluster renders them as
// Kubernetes objects (topology/render-kubernetes.ts) or, for a mirror, applies
// production's own objects (`manifests`). Nothing renders one output format from another.

export type ServiceRole =
  | "web"
  | "php"
  | "cli"
  | "db"
  | "postgres"
  | "cache"
  | "proxy"
  | "cron"
  | "app"
  /** A background process of the application (a queue worker). */
  | "worker"
  /** The environment's mail catcher. */
  | "mail";

/** An image prodlike builds from a preset's Dockerfile. `tag` is content-addressed. */
export interface BuiltImage {
  kind: "build";
  /** Absolute path of the build context (holds the Dockerfile). */
  context: string;
  /** repository:tag, the tag a hash of the context (and of the packages below) so a
   *  changed Dockerfile or version rebuilds. */
  tag: string;
  /** npm packages fetched on this machine into the build context before the build (the
   *  Node.js binary): `name`, a major version, the file name in the context. */
  npmPackages?: { name: string; major: string; file: string }[];
  /** Docker build arguments: the Debian release, the PHP or database version. */
  buildArgs?: Record<string, string>;
}

/** An image used as it is (pulled or already present). */
export interface PulledImage {
  kind: "pull";
  ref: string;
}

export type ImageSpec = BuiltImage | PulledImage;

export interface PortSpec {
  /** Name the port is known by: `web` gives `urls.web`. */
  name: string;
  containerPort: number;
  /** Host port on 127.0.0.1; chosen by the port allocator before rendering. */
  hostPort: number;
  /** `http` ports get a URL. */
  protocol: "http" | "tcp";
  /** http: the path `up` waits on; `/` when unset. */
  healthPath?: string;
  /** http: a listener of the same container only the local router reaches. */
  routerPort?: number;
}

export type MountSpec =
  /** The developer's live code tree, the same path in every container that has it. */
  | { type: "code"; target: string }
  /** A named volume owned by the environment (data survives `down`, not `destroy`). */
  | { type: "volume"; volume: string; target: string; readOnly?: boolean }
  /** A rendered config file, mounted read-only. `file` is a key of Topology.configFiles,
   *  or a folder of them (`configmap-nginx` holds `configmap-nginx/default.conf`).
   *  `writable`: the framework's own installer writes it (compose mounts it read-write;
   *  a cluster's ConfigMap or Secret stays read-only). */
  | { type: "config"; file: string; target: string; writable?: boolean | undefined }
  /** A file or socket of the developer's machine (the ssh agent, a key): only a backend
   *  on that machine (compose) honours it, and sets `env` (what points at it) with it. */
  | {
      type: "host";
      source: string;
      target: string;
      readOnly: boolean;
      env?: Record<string, string>;
    };

export interface HealthCheck {
  /** Exec form, run inside the container. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface Dependency {
  service: string;
  /** completed: a run-once service (an init container) ended with exit 0. */
  condition: "healthy" | "started" | "completed";
}

export interface ServiceSpec {
  name: string;
  role: ServiceRole;
  image: ImageSpec;
  command?: string[];
  entrypoint?: string[];
  workingDir?: string;
  /** Run an init process as PID 1 so a shell-less command still stops on SIGTERM. */
  init?: boolean;
  /** The user the container runs as: the developer's own uid and gid for every service
   *  that reads or writes the code, so what the app, drush or composer write is theirs. */
  user?: { uid: number; gid?: number };
  env: Record<string, string>;
  ports: PortSpec[];
  mounts: MountSpec[];
  health?: HealthCheck;
  dependsOn: Dependency[];
  /** Ports other services reach this one on inside the environment, never published
   *  (php-fpm's 9000). Kubernetes Services need them; compose networks do not. */
  expose?: number[];
  /** For `cron` services: when the job runs (cron syntax). A CronJob on Kubernetes. */
  schedule?: string;
  /** Runs to completion and is not restarted (an init container, a Job): ready once it
   *  exited 0. */
  runsOnce?: boolean;
  /** Started again whenever it ends, as production's supervisor or a Deployment does (a
   *  queue worker told to restart exits with 0), until the environment is stopped. */
  restartAlways?: boolean;
  /** Shares this service's network, localhost included, as the containers of one pod do. */
  networkOf?: string;
  /** More names other services reach this one by (the Kubernetes Services selecting it). */
  aliases?: string[];
  /** Labels beyond the environment's own (a mirrored container's workload and name). */
  labels?: Record<string, string>;
  /** The most memory the container may use, in MiB (compose mem_limit, a pod's limit). */
  memoryMb?: number;
}

export interface VolumeSpec {
  name: string;
}

/** A file prodlike renders and mounts read-only (nginx.conf, php.ini). */
export interface ConfigFile {
  name: string;
  content: string;
  /** Holds a secret (OpenMage's local.xml): a Secret on a cluster, never a ConfigMap. */
  secret?: boolean;
  /** Only of use beside `host` mounts (the ssh client config for the host's agent): a
   *  cluster leaves it out with them. */
  hostOnly?: boolean;
}

/** What a config file says that only a renderer knows: how a service is reached (its
 *  name on compose; loopback from a container of the same pod on a cluster) and the
 *  platform's DNS server. Importers write these tokens; renderers resolve them. */
export const PlatformToken = {
  address: (service: string) => `@@address:${service}@@`,
  dnsResolver: "@@dns-resolver@@",
} as const;

export interface Platform {
  address(service: string): string;
  dnsResolver: string;
}

export function resolvePlatformTokens(content: string, platform: Platform): string {
  return content
    .replace(/@@address:([A-Za-z0-9_.-]+)@@/g, (_match, service: string) =>
      platform.address(service),
    )
    .replaceAll(PlatformToken.dnsResolver, platform.dnsResolver);
}

/** A file written into the code tree (e.g. Drupal's settings include). */
export interface CodeFile {
  /** Path relative to the code root. */
  path: string;
  content: string;
  /** Marker line that proves prodlike wrote the file; files without it are the user's. */
  marker: string;
  /** Only create the file when it does not exist (e.g. settings.php). */
  createOnly: boolean;
  /** A file (relative to the code root) that must mention this one for it to take effect. */
  referencedBy?: string;
}

/** A host name the local router sends to a service's container port
 *  (`qa1.shop.localhost` -> web:80). */
export interface HostRoute {
  host: string;
  service: string;
  port: number;
  /** Where on the same container the router sends instead, when the service has a
   *  listener of its own for it (Varnish's, which takes the router's X-Forwarded-*
   *  headers; its published port replaces a client's). Compose only: a cluster's router
   *  dials the service's node port. */
  routerPort?: number;
}

export interface EnvironmentIdentity {
  /** Project name: prodlike.yaml `name`, or the code root's folder name. */
  project: string;
  /** Environment name within the project (`--name`), `local` by default. */
  name: string;
  /** `<project>-<name>`: the label value, the compose project name, the cluster suffix. */
  id: string;
}

export interface Topology {
  identity: EnvironmentIdentity;
  preset: string;
  /** Absolute path of the developer's checkout. */
  codeRoot: string;
  /** Where the code is mounted in containers. */
  codeMountPath: string;
  services: ServiceSpec[];
  volumes: VolumeSpec[];
  configFiles: ConfigFile[];
  codeFiles: CodeFile[];
  /** Folders made in the code tree on `up` (relative to the code root): files, config sync. */
  codeFolders: string[];
  /** Secret values in this topology: redacted from every log line and --json document. */
  secrets: string[];
  /** Kubernetes only: services that share a pod (pod name -> container names), as
   *  production runs nginx + php-fpm. A service in no group gets a pod of its own. */
  podGroups: Record<string, string[]>;
  /** Production's objects after the local transforms, when the topology was imported
   *  from them (`up --mirror`): a cluster applies these as they are, for fidelity;
   *  compose runs the services imported from them. */
  manifests?: readonly KubeObject[];
  /** The names the local router answers for this environment (ENV.PROJECT.localhost,
   *  mail.…, a mirrored Ingress's hosts), each to a service's container port. */
  routes?: HostRoute[];
  /** The commands the preset offers (`prodlike run NAME`). */
  commands?: Record<string, ProjectCommand>;
  /** The application's front controller, relative to the code root (public/index.php). */
  entry?: string;
  /** How an installed site is told from an empty database, and how one is installed. */
  install?: InstallSpec;
  /** On an existing cluster (backend `cluster`): where and how the environment runs
   *  there, from prodlike.yaml's `cluster:` block and `up`'s flags. */
  placement?: ClusterPlacement;
}

/** An environment's place on a team's cluster. */
export interface ClusterPlacement {
  /** The kubeconfig file and context of the cluster. */
  kubeconfig: string;
  context: string;
  /** Created and labelled by prodlike (default prodlike-PROJECT-ENV). */
  namespace: string;
  /** Who made it (label-safe), for `ls` and the namespace's labels. */
  owner: string;
  /** HOST[:PORT][/PATH] images are pushed to and pulled from. */
  registry?: string | undefined;
  storageClass?: string | undefined;
  ingress?: { domain: string; className?: string | undefined } | undefined;
  /** Each container's default limits. */
  resources?: { cpu?: string | undefined; memory?: string | undefined } | undefined;
  quota?:
    | {
        cpu?: string | undefined;
        memory?: string | undefined;
        pods?: number | undefined;
        storage?: string | undefined;
      }
    | undefined;
  /** How the code gets into the pods: the checkout's tree, kept live by the session's
   *  sync; or baked from a git ref (HEAD by default), never synced. */
  code: { mode: "sync"; exclude: string[] } | { mode: "bake"; ref: string };
  /** When the environment's lifetime ends (`up --ttl`): the namespace says it too. */
  expiresAt?: string | undefined;
  /** `prodlike keep`: the namespace says so, so anyone's `gc` leaves it. */
  kept?: boolean | undefined;
}

export interface ProjectCommand {
  service: string;
  /** A shell command; `prodlike run NAME ARGS…` appends ARGS as "$@". */
  run: string;
  description?: string | undefined;
}

export interface InstallSpec {
  /** SQL run on the environment's database: a number above 0 when a site is installed. */
  check: string;
  /** The command (of `commands`) that installs one. */
  command: string;
  /** Whether the topology was rendered for an installed site. */
  installed: boolean;
}

/** A Kubernetes object as read from YAML: only what every object has is typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export function findService(topology: Topology, name: string): ServiceSpec | undefined {
  return topology.services.find((service) => service.name === name);
}

/** The images an environment builds, each tag once (services may share an image). */
export function builtImagesOf(topology: Topology): BuiltImage[] {
  const images = topology.services
    .map((service) => service.image)
    .filter((image): image is BuiltImage => image.kind === "build");
  return [...new Map(images.map((image) => [image.tag, image])).values()];
}

/** The services whose logs explain a page that does not answer: the one serving it, what
 *  it depends on, and what shares its network (a pod's other containers). */
export function servicesExplaining(topology: Topology, service: ServiceSpec): string[] {
  const names = [
    service.name,
    ...service.dependsOn.map((dependency) => dependency.service),
    ...topology.services
      .filter((candidate) => candidate.networkOf === service.name)
      .map((candidate) => candidate.name),
  ];
  return [...new Set(names)];
}
