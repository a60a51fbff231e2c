// What the dashboard's server sends its page, as JSON: the one contract between
// src/dashboard (Node) and web/ (the browser), which imports these types and nothing else
// from src. No imports here, so the browser's build reads this file alone. The server
// checks at compile time that core's overview fits EnvironmentView (server.ts).
// Every string in here may be hostile (names, log lines, mail subjects): the page puts
// them in the DOM as text, never as markup.

export interface PortView {
  name: string;
  containerPort: number;
  hostPort: number;
  hostIp: string;
  url?: string;
}

export interface ServiceView {
  name: string;
  role: string;
  state: string;
  health: string;
  ports: PortView[];
}

export interface EnvironmentView {
  id: string;
  project: string;
  name: string;
  backend: string;
  preset: string;
  codeRoot: string;
  state: string;
  services: ServiceView[];
  urls: Record<string, string>;
  createdAt: string;
  expiresAt?: string;
  snapshots: {
    name: string;
    createdAt: string;
    bytes: number;
    pinned: boolean;
    automatic: boolean;
  }[];
  releases: { id: string; keptAt?: string; dataSnapshot?: string }[];
  data?: { source: string; kind: string; at: string; sanitized?: boolean | undefined };
  xdebug?: boolean;
  mail?: { caught: number; latest: { subject: string; from: string; at: string }[] };
  /** Who made it (the engine's owner record); absent for an environment from before. */
  owner?: { uid: number; user?: string; checkout: string; mine: boolean };
  /** Kept from gc whatever its lifetime (`prodlike keep`). */
  kept?: boolean;
  /** Asleep since when, and why: `prodlike sleep`, or no request for its idle time. */
  sleeping?: { since: string; reason: "command" | "idle" };
}

/** A namespace prodlike made on a team cluster, whoever made it: read from its labels
 *  alone (every field is hostile text, the context's name included). */
export interface TeamEnvironmentView {
  /** The kubeconfig context it was listed through. */
  context: string;
  namespace: string;
  /** The environment's id (PROJECT-NAME). */
  env: string;
  project: string;
  preset: string;
  /** user.host of whoever made it. */
  owner: string;
  expiresAt?: string;
  kept: boolean;
  /** Deleted, the cluster finalizing it. */
  terminating: boolean;
  /** One of this user's recorded environments: it is in the local list too, with its
   *  actions; every other row is read-only. */
  recorded: boolean;
}

export interface TeamView {
  environments: TeamEnvironmentView[];
  /** A context that did not answer or refused the listing (or unreadable settings). */
  warnings: { context: string; problem: string }[];
}

/** The server's events on /api/events. */
export type LiveEvent =
  | { type: "environments"; environments: EnvironmentView[] }
  | { type: "team"; team: TeamView }
  | { type: "environment"; environment: EnvironmentView }
  | { type: "removed"; id: string }
  | { type: "operation"; operation: OperationView };

export type StepState = "pending" | "running" | "done" | "failed";

export interface StepView {
  title: string;
  state: StepState;
  detail?: string;
  children: StepView[];
}

export interface ErrorView {
  code: string;
  message: string;
  hint?: string;
}

export interface OperationView {
  id: string;
  envId: string;
  action: string;
  state: "running" | "done" | "failed";
  startedAt: string;
  endedAt?: string;
  steps: StepView[];
  messages: { level: "info" | "warn"; text: string }[];
  error?: ErrorView;
}

export type LogLevel = "error" | "warn" | "info" | "debug";

export interface LogLineView {
  /** Increasing per environment: the page drops lines it already has after a reconnect. */
  seq: number;
  service: string;
  stream: "stdout" | "stderr";
  level: LogLevel;
  text: string;
}

/** One service's CPU (percent of one core) and memory, read every few seconds. */
export interface UsagePoint {
  at: number;
  cpuPercent?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  requestedCpuMillis?: number;
  requestedMemoryBytes?: number;
}

export interface UsageView {
  service: string;
  points: UsagePoint[];
}

export interface TopologyView {
  services: { name: string; role: string; dependsOn: string[]; volumes: string[] }[];
  volumes: string[];
}

/** The actions a page may ask for on an environment (POST /api/environments/ID/actions/NAME). */
export type ActionName =
  | "up"
  | "down"
  | "destroy"
  | "snapshot-create"
  | "snapshot-restore"
  | "rollback"
  | "db-pull"
  | "cache-purge"
  | "xdebug"
  | "ttl";
