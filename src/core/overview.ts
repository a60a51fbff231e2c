import type { Backend, EnvironmentStatus, KeptRelease } from "../backends/backend.js";
import type { DataOrigin } from "../db/data-origin.js";
import type { XdebugRecord } from "../env/xdebug-state.js";
import { list } from "./environments.js";
import type { CoreServices } from "./services.js";

// Everything known about every environment, as `ls --json` prints it and the dashboard
// shows it: the listing (one engine query, the cluster records) and, per environment,
// what prodlike keeps beside it (snapshots, releases, where the data came from, Xdebug)
// and what its mail catcher caught. Fields other features add later (owner, sleeping,
// keep) are optional, so a reader written today keeps working.

export interface SnapshotSummary {
  name: string;
  createdAt: string;
  bytes: number;
  pinned: boolean;
  automatic: boolean;
}

export interface CaughtMail {
  /** How many messages the catcher holds. */
  caught: number;
  /** The newest few, as the app wrote them (hostile text: escape before showing). */
  latest: { subject: string; from: string; at: string }[];
}

export interface EnvironmentDetails {
  snapshots: SnapshotSummary[];
  releases: (KeptRelease & { id: string })[];
  /** Where the data came from (a pull, an import, a seed) and whether it was sanitized. */
  data?: DataOrigin;
  /** Xdebug as prodlike last switched or checked it (`prodlike xdebug status` asks). */
  xdebug?: boolean;
  /** The mail catcher's count, when the environment runs one. */
  mail?: CaughtMail;
}

export type EnvironmentOverview = EnvironmentStatus & EnvironmentDetails;

/** Every environment with its details (the listing is read once). */
export async function overview(services: CoreServices): Promise<EnvironmentOverview[]> {
  const environments = await list(services, undefined);
  const xdebug = await xdebugRecords(services);
  return Promise.all(
    environments.map(async (environment) => ({
      ...environment,
      ...(await environmentDetails(services, environment, xdebug)),
    })),
  );
}

/** Reads the Xdebug records once for many environments. */
export async function xdebugRecords(services: CoreServices): Promise<Map<string, XdebugRecord>> {
  const { openXdebugState } = await import("../env/xdebug-state.js");
  return openXdebugState(services.env).all();
}

/** One environment's details; a part that cannot be read is left out, never fatal. */
export async function environmentDetails(
  services: CoreServices,
  environment: EnvironmentStatus,
  xdebug: ReadonlyMap<string, XdebugRecord>,
): Promise<EnvironmentDetails> {
  const [{ openSnapshotStore }, { openDataOrigin }] = await Promise.all([
    import("../db/snapshots.js"),
    import("../db/data-origin.js"),
  ]);
  const [snapshots, releases, data, mail] = await Promise.all([
    openSnapshotStore(services.env, environment.id).list(),
    releasesOf(services, environment),
    openDataOrigin(services.env, environment.id).read(),
    caughtMail(environment),
  ]);
  const record = xdebug.get(environment.id);
  return {
    snapshots: snapshots.map((meta) => ({
      name: meta.name,
      createdAt: meta.createdAt,
      bytes: meta.bytes,
      pinned: meta.pinned,
      automatic: meta.automatic === true,
    })),
    releases,
    ...(data ? { data } : {}),
    ...(record ? { xdebug: record.enabled } : {}),
    ...(mail ? { mail } : {}),
  };
}

async function releasesOf(
  services: CoreServices,
  environment: EnvironmentStatus,
): Promise<(KeptRelease & { id: string })[]> {
  let backend: Backend;
  try {
    backend = await services.backend(environment.backend);
    return await backend.releases(environment.id);
  } catch {
    return [];
  }
}

const MAIL_TIMEOUT_MS = 1500;
const MAIL_LATEST = 5;

// The catcher's Mailpit-shaped API on its 127.0.0.1 port; a stopped or slow catcher
// leaves the count out rather than holding up the listing.
async function caughtMail(environment: EnvironmentStatus): Promise<CaughtMail | undefined> {
  const direct = environment.urls.mail;
  if (!direct || environment.state === "stopped") return undefined;
  try {
    const response = await fetch(`${direct.replace(/\/+$/, "")}/api/v1/messages`, {
      signal: AbortSignal.timeout(MAIL_TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    return mailFromApi(await response.json());
  } catch {
    return undefined;
  }
}

/** The count and newest messages from the catcher's answer, whatever shape it has. */
export function mailFromApi(body: unknown): CaughtMail | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { total, messages } = body as { total?: unknown; messages?: unknown };
  const list = Array.isArray(messages) ? messages : [];
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return {
    caught: typeof total === "number" ? total : list.length,
    latest: list.slice(0, MAIL_LATEST).map((message: Record<string, unknown>) => {
      const from = message.From as { Address?: unknown } | undefined;
      return {
        subject: text(message.Subject),
        from: text(from?.Address),
        at: text(message.Created),
      };
    }),
  };
}
