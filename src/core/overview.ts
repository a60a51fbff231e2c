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

/** Who made the environment (its owner record, kept with the engine by `up`). */
export interface EnvironmentOwner {
  uid: number;
  /** The user's name on this machine, when /etc/passwd has it. */
  user?: string;
  /** The checkout it was made from. */
  checkout: string;
  /** This user's own (other users' environments are listed, not changed). */
  mine: boolean;
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
  /** Who made it; absent for an environment from before owner records. */
  owner?: EnvironmentOwner;
}

export type EnvironmentOverview = EnvironmentStatus & EnvironmentDetails;

/** Every environment with its details (the listing is read once). */
export async function overview(services: CoreServices): Promise<EnvironmentOverview[]> {
  const [environments, records] = await Promise.all([
    list(services, undefined),
    sharedRecords(services),
  ]);
  return Promise.all(
    environments.map(async (environment) => ({
      ...environment,
      ...(await environmentDetails(services, environment, records)),
    })),
  );
}

/** What many environments' details read once: Xdebug records, owner records, user names. */
export interface SharedRecords {
  xdebug: ReadonlyMap<string, XdebugRecord>;
  owners: ReadonlyMap<string, EnvironmentOwner>;
}

export async function sharedRecords(services: CoreServices): Promise<SharedRecords> {
  const [xdebug, owners] = await Promise.all([
    services.stores.xdebug().then((store) => store.all()),
    ownersOf(services),
  ]);
  return { xdebug, owners };
}

// The engine's owner records (one volume listing), with each uid's name.
async function ownersOf(services: CoreServices): Promise<Map<string, EnvironmentOwner>> {
  try {
    const [{ EnvironmentOwners }, names] = await Promise.all([
      import("../backends/docker/environment-owners.js"),
      userNames(),
    ]);
    const records = await new EnvironmentOwners(await services.engine()).list();
    return new Map(
      records.map((record) => {
        const user = names.get(record.uid);
        return [
          record.envId,
          {
            uid: record.uid,
            ...(user ? { user } : {}),
            checkout: record.codeRoot,
            mine: record.uid === (services.developer?.uid ?? -1),
          },
        ];
      }),
    );
  } catch {
    return new Map();
  }
}

/** uid -> name from /etc/passwd (empty where there is none). */
async function userNames(): Promise<Map<number, string>> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile("/etc/passwd", "utf8").catch(() => "");
  return new Map(
    text.split("\n").flatMap((line) => {
      const [name, , uid] = line.split(":");
      return name && uid && /^\d+$/.test(uid) ? [[Number(uid), name] as [number, string]] : [];
    }),
  );
}

/** One environment's details; a part that cannot be read is left out, never fatal. */
export async function environmentDetails(
  services: CoreServices,
  environment: EnvironmentStatus,
  records: SharedRecords,
): Promise<EnvironmentDetails> {
  const [snapshots, releases, data, mail] = await Promise.all([
    services.stores.snapshots(environment.id).then((store) => store.list()),
    releasesOf(services, environment),
    services.stores.dataOrigin(environment.id).then((store) => store.read()),
    caughtMail(environment),
  ]);
  const record = records.xdebug.get(environment.id);
  const owner = records.owners.get(environment.id);
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
    ...(owner ? { owner } : {}),
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
