import type { Readable, Writable } from "node:stream";
import type { PortClaims } from "../env/port-allocator.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { ExternalRoutes } from "../router/router-plan.js";
import type { KubeObject, Topology } from "../topology/model.js";
import type { Progress } from "../ui/steps.js";

// The one interface every backend implements (compose, kind, minikube). Engine calls live
// behind it only; what crosses it is in the model's terms, never an engine's types.

export type { BackendName } from "../config/backend-registry.js";

import type { BackendName } from "../config/backend-registry.js";

/** running: all up and healthy; starting: health checks pending; unhealthy: a check
 *  failed; stopped: nothing running; partial: some services missing or stopped;
 *  sleeping: stopped by `prodlike sleep` or for being idle (set by core, not backends),
 *  woken by `wake` or a request through the router. */
export type EnvironmentState =
  | "running"
  | "starting"
  | "unhealthy"
  | "stopped"
  | "partial"
  | "sleeping";

export interface PortStatus {
  name: string;
  containerPort: number;
  hostPort: number;
  hostIp: string;
  url?: string;
}

export interface ServiceStatus {
  name: string;
  role: string;
  state: string;
  health: string;
  ports: PortStatus[];
}

export interface EnvironmentStatus {
  id: string;
  project: string;
  name: string;
  backend: BackendName;
  preset: string;
  codeRoot: string;
  state: EnvironmentState;
  services: ServiceStatus[];
  urls: Record<string, string>;
  createdAt: string;
  /** When a throwaway environment's lifetime ends (`up --ttl`); set by core, not backends. */
  expiresAt?: string;
  /** `prodlike keep`: gc never removes it. Set by core. */
  kept?: boolean;
  /** Asleep since (ISO time) and why; set by core. */
  sleeping?: { since: string; reason: "command" | "idle" };
}

export interface UpOptions {
  /** Rebuild the preset images even when their tags exist. */
  rebuild: boolean;
  /** How long to wait for health, per service. */
  healthTimeoutMs: number;
  /** Called once a new release is built, just before it replaces a running one: keeps the
   *  data as the old release left it (undefined: there is none), which the backend
   *  records with that release for `rollback --data`. */
  beforeSwitch?: (progress: Progress) => Promise<KeptData | undefined>;
  /** How many earlier releases are kept to go back to (prodlike.yaml `releases.keep`). */
  keepReleases?: number;
  /** How the web page is checked (prodlike.yaml `health:`): how long one request may
   *  take, and how long error answers may last before `up` gives up. */
  webCheck?: {
    requestTimeoutMs?: number | undefined;
    failAfterMs?: number | undefined;
    /** The checkout holds no application yet (its front controller is missing): the
     *  services are waited for, the application's page is not. */
    noApplication?: boolean | undefined;
  };
  /** False: the change follows the data, not the code (the install state); nothing is
   *  kept as a release for it. */
  keepRelease?: boolean;
}

/** The data as a release left it: a snapshot, and the work that makes it quick to restore
 *  (its copy prepared beside the live data), run while the new release starts. */
export interface KeptData {
  snapshot: string;
  /** Resolves once the snapshot is ready; its failure only leaves the snapshot cold. */
  prepare?: () => Promise<void>;
}

export interface RestartOptions {
  /** What the service holds is being replaced (a database pointed at other data): it is
   *  stopped at once, not shut down cleanly (what a clean shutdown writes is thrown away). */
  immediate?: boolean;
}

/** What a backend keeps of the release before the current one. */
export interface KeptRelease {
  /** The snapshot of the data as that release left it, when one was taken. */
  dataSnapshot?: string;
  /** When it was kept (it stopped running then), ISO 8601. */
  keptAt?: string;
}

export interface UpResult {
  status: EnvironmentStatus;
  /** False when the environment was already up with the same configuration. */
  changed: boolean;
}

export interface DestroyOptions {
  /** Keep prodlike-built images for a fast re-create. */
  keepImages: boolean;
}

export interface DestroyReport {
  containers: string[];
  volumes: string[];
  networks: string[];
  images: string[];
  /** kind / minikube: the clusters deleted. */
  clusters?: string[];
}

export interface ExecRequest {
  service: string;
  command: string[];
  /** Allocate a TTY (when both stdin and stdout are terminals). */
  tty: boolean;
  workdir?: string;
}

export interface StreamExecRequest {
  service: string;
  command: string[];
  /** Piped into the command's stdin (a dump being imported). */
  stdin?: Readable;
  /** Receives the command's stdout (a dump being exported); collected when absent. */
  stdout?: Writable;
  /** kind / minikube: only a pod these labels select (`app=web`), when container names
   *  repeat across pods as they do in production's layout. Compose ignores it. */
  selector?: string;
}

export interface StreamExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One container as it runs, with the labels it was made with. */
export interface RunningContainer {
  labels: Record<string, string>;
  config: {
    image: string;
    env: string[];
    entrypoint: string[];
    cmd: string[];
    mounts: { source: string; destination: string }[];
    /** What the image sets by itself: not the environment's own. */
    imageDefaults: { env: string[]; entrypoint: string[]; cmd: string[] };
  };
}

/** The environment as it runs (`parity --against running`): the containers compose made,
 *  or the objects a cluster holds, which show more (ports, probes, replicas). */
export type RunningState =
  | { shape: "containers"; containers: RunningContainer[] }
  | { shape: "objects"; objects: KubeObject[] };

/** A read-only copy of one environment's prepared data kept on the engine, which new
 *  environments' volumes start on copy-on-write (`up --seed-from ENV:SNAPSHOT`). */
export interface Seed {
  /** Source, snapshot and the snapshot's checksum: one seed per content. */
  name: string;
  /** The environment whose snapshot it holds. */
  source: string;
  snapshot: string;
  /** The environments layered on it (it is kept while there is one). */
  users: string[];
}

export interface SeedExport {
  seed: string;
  source: string;
  snapshot: string;
  /** The source's service whose volume holds the data, mounted read-only where the
   *  service has it in a throwaway container of its image. */
  service: string;
  /** What that container runs: it fills the seed (mounted at /prodlike-seed) and exits 0
   *  only once the seed is whole. */
  command: string[];
}

/** Where the command that fills a seed finds it. */
export const SEED_MOUNT = "/prodlike-seed";

export type SeedLayering = { layered: true } | { layered: false; reason: string };

export interface LogOptions {
  follow: boolean;
  tail: number;
  /** False when NO_COLOR is set or the output is not a terminal. */
  color: boolean;
}

/** One reading of a running service's CPU and memory. Compose gives the engine's
 *  cumulative counters (a CPU rate needs two readings); a cluster without a metrics API
 *  gives only what it reserves and caps (requests and limits). */
export interface ServiceUsage {
  service: string;
  cpuNanos?: number;
  systemNanos?: number;
  onlineCpus?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  /** Requested CPU in millicores and memory in bytes (clusters). */
  requests?: { cpuMillis?: number; memoryBytes?: number };
}

/** One line a service wrote, as the dashboard shows it (no terminal, no colour). */
export interface ServiceLogLine {
  service: string;
  stream: "stdout" | "stderr";
  text: string;
}

export interface Backend {
  readonly name: BackendName;
  /** Fails with a typed error when the backend cannot work here. */
  preflight(): Promise<void>;
  portClaims(envId: string): Promise<PortClaims>;
  /** The code root another checkout uses this environment id from, if any. */
  ownerCodeRoot(envId: string): Promise<string | undefined>;
  /** Renders and applies the model, whichever importer made it, then waits for health.
   *  A new environment that fails to come up is left for diagnosis (core removes it
   *  with --rm-on-failure). */
  up(topology: Topology, progress: Progress, options: UpOptions): Promise<UpResult>;
  down(envId: string, progress: Progress): Promise<EnvironmentStatus>;
  /** Starts a stopped environment as it was (nothing re-created or built: `wake`), then
   *  waits for health. */
  start(
    envId: string,
    progress: Progress,
    options: { healthTimeoutMs: number },
  ): Promise<EnvironmentStatus>;
  destroy(envId: string, progress: Progress, options: DestroyOptions): Promise<DestroyReport>;
  status(envId: string): Promise<EnvironmentStatus | undefined>;
  list(): Promise<EnvironmentStatus[]>;
  /** Runs a command in a service with the terminal attached; resolves its exit code. */
  exec(envId: string, request: ExecRequest): Promise<number>;
  /** Restarts one service and waits until it is healthy again. */
  restartService(
    envId: string,
    service: string,
    timeoutMs: number,
    options?: RestartOptions,
  ): Promise<void>;
  /** The environment as it runs (parity --against running). */
  running(envId: string): Promise<RunningState>;
  /** Runs a command in a service with streams instead of the terminal (no TTY). */
  execStream(envId: string, request: StreamExecRequest): Promise<StreamExecResult>;
  logs(envId: string, services: string[], options: LogOptions): Promise<number>;
  /** The last `tail` lines of each service (all when none named), then each new line,
   *  until `signal` aborts. */
  followLogLines(
    envId: string,
    services: string[],
    options: { tail: number; signal: AbortSignal },
    onLine: (line: ServiceLogLine) => void,
  ): Promise<void>;
  /** CPU and memory of each running service, read now. */
  usage(envId: string): Promise<ServiceUsage[]>;
  /** Cluster backends: the names the local router sends to the cluster's node, and the
   *  node's container and network. Compose answers undefined: its containers carry the
   *  routes as labels. */
  routeTargets(envId: string): Promise<ExternalRoutes | undefined>;
  /** Back to the release before the last `up` that changed something, its data kept; the
   *  release it leaves becomes the one to go back to. */
  rollback(
    envId: string,
    progress: Progress,
    options: {
      healthTimeoutMs: number;
      /** The snapshot of the data the release being left wrote, recorded with it (it
       *  becomes the kept release), so going forward again can bring its data too. */
      dataSnapshot?: string;
      /** An older kept release (an id from `releases`) instead of the previous one. */
      to?: string;
    },
  ): Promise<EnvironmentStatus>;
  /** The release `rollback` would go back to; undefined when none is kept. */
  previousRelease(envId: string): Promise<KeptRelease | undefined>;
  /** Every kept release, the one `rollback` goes back to first, then older ones. */
  releases(envId: string): Promise<(KeptRelease & { id: string })[]>;
  /** Whether volumes can start on a seed, copy-on-write (else data is copied in). */
  readonly layeredSeeds: boolean;
  /** The seeds on the engine and their users. */
  seeds(): Promise<Seed[]>;
  /** Makes a seed from a service's volume (see SeedExport). */
  createSeed(request: SeedExport): Promise<void>;
  /** Makes the new environment's `volume` start on the seed: only what it writes is its
   *  own. `check` is a shell script given the merged folder as $1, which must pass; when
   *  the engine cannot layer here, nothing is left and the reason is answered. */
  layerOnSeed(
    topology: Topology,
    request: { volume: string; seed: string; check: string },
  ): Promise<SeedLayering>;
  /** Removes the seeds no environment uses any more; their names. */
  removeUnusedSeeds(): Promise<string[]>;
  /** Keeps the environment reachable from this machine and its code live until the
   *  signal: an existing cluster's port-forwards and sync. Resolves at once where the
   *  engine or a local node does that by itself (`false`: nothing to keep). */
  serve(envId: string, options: ServeOptions): Promise<boolean>;
}

export interface ServeOptions {
  signal: AbortSignal;
  onLine(line: string): void;
  /** Called once everything listens. */
  onReady(): void;
  /** A session in the foreground replaces the one `up` left in the background. */
  replace: boolean;
}

/** The one "nothing to roll back to" error every backend and the core throw. */
export function noPreviousRelease(envId: string): ProdlikeError {
  return new ProdlikeError("RELEASE_NOT_FOUND", `${envId} has no previous release`, {
    hint: "A release is kept when `up` changes a running environment (new images or configuration).",
  });
}

/** The one "no such environment" error every backend and the core throw. */
export function environmentNotFound(envId: string): ProdlikeError {
  return new ProdlikeError("ENV_NOT_FOUND", `No environment ${envId}`, {
    hint: "`prodlike ls` lists environments; `prodlike up` creates this one.",
  });
}
