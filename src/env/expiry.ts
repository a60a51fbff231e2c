import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import { stateDir } from "../config/user-settings.js";
import { lazySchema, readStateOrNothing, writeState } from "../state/json-state.js";
import { byCodePoint } from "../ui/text-order.js";

// When throwaway environments expire (`up --ttl`), kept in the user's state folder beside
// the environment locks: a lifetime changes without touching the containers (a label
// would make compose re-create them), and `gc` finds every record in one listing.

export interface Expiry {
  envId: string;
  ttlMs: number;
  /** ISO time; the lifetime counts from the last `up --ttl`. */
  expiresAt: string;
}

const expirySchema = lazySchema(() =>
  z.object({
    envId: z.string(),
    ttlMs: z.number(),
    expiresAt: z.string().check(z.refine((value) => !Number.isNaN(Date.parse(value)), "a date")),
  }),
);

export class ExpiryStore {
  constructor(private readonly dir: string) {}

  private file(envId: string): string {
    return path.join(this.dir, `${envId}.json`);
  }

  async set(envId: string, ttlMs: number, now: Date): Promise<Expiry> {
    const expiry = { envId, ttlMs, expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
    await writeState(this.file(envId), expiry);
    return expiry;
  }

  async remove(envId: string): Promise<void> {
    await rm(this.file(envId), { force: true });
  }

  async all(): Promise<Map<string, Expiry>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return new Map();
    }
    const records = await Promise.all(
      names
        .filter((name) => name.endsWith(".json"))
        // Unreadable or damaged: treated as no lifetime, never as expired.
        .map((name) => readStateOrNothing(path.join(this.dir, name), expirySchema())),
    );
    return new Map(
      records
        .filter((record): record is Expiry => typeof record?.envId === "string")
        .map((record) => [record.envId, record]),
    );
  }
}

export function openExpiryStore(env: NodeJS.ProcessEnv): ExpiryStore {
  return new ExpiryStore(path.join(stateDir(env), "expiry"));
}

/** The environments whose lifetime is over at `now`, oldest expiry first. */
export function expiredAmong<T extends { id: string }>(
  environments: readonly T[],
  expiries: ReadonlyMap<string, Expiry>,
  now: Date,
): (T & { expiresAt: string })[] {
  return environments
    .flatMap((environment) => {
      const expiry = expiries.get(environment.id);
      return expiry && Date.parse(expiry.expiresAt) <= now.getTime()
        ? [{ ...environment, expiresAt: expiry.expiresAt }]
        : [];
    })
    .sort((a, b) => byCodePoint(a.expiresAt, b.expiresAt));
}
