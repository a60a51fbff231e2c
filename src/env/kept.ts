import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import { stateDir } from "../config/user-settings.js";
import { lazySchema, readStateOrNothing, writeState } from "../state/json-state.js";

// The environments `gc` never removes (`prodlike keep`), kept beside their lifetimes in
// the user's state folder: a QA environment someone is still working in outlives its
// `--ttl` until they let it go (`keep --off`).

export interface KeptRecord {
  envId: string;
  /** ISO time of the `keep`. */
  keptAt: string;
}

const keptSchema = lazySchema(() =>
  z.object({
    envId: z.string(),
    keptAt: z.string().check(z.refine((value) => !Number.isNaN(Date.parse(value)), "a date")),
  }),
);

export class KeptStore {
  constructor(private readonly dir: string) {}

  private file(envId: string): string {
    return path.join(this.dir, `${envId}.json`);
  }

  async keep(envId: string, now: Date): Promise<KeptRecord> {
    const record = { envId, keptAt: now.toISOString() };
    await writeState(this.file(envId), record);
    return record;
  }

  async remove(envId: string): Promise<void> {
    await rm(this.file(envId), { force: true });
  }

  /** Every kept environment; a damaged record counts as kept (gc errs on keeping). */
  async all(): Promise<Map<string, KeptRecord>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return new Map();
    }
    const kept = new Map<string, KeptRecord>();
    for (const name of names.filter((entry) => entry.endsWith(".json"))) {
      const envId = name.slice(0, -".json".length);
      const record = await readStateOrNothing(path.join(this.dir, name), keptSchema());
      kept.set(envId, record ?? { envId, keptAt: new Date(0).toISOString() });
    }
    return kept;
  }
}

export function openKeptStore(env: NodeJS.ProcessEnv): KeptStore {
  return new KeptStore(path.join(stateDir(env), "kept"));
}
