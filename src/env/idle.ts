import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { stateDir } from "../config/user-settings.js";
import { readStateOrNothing, writeState } from "../state/json-state.js";

// How long an environment may go without a request before it is put to sleep
// (prodlike.yaml `idle:`, `up --idle`), kept in the user's state folder: the user's waker
// (core/waker.ts) watches these environments.

export interface IdleRecord {
  envId: string;
  idleMs: number;
}

const idleSchema = z.object({ envId: z.string(), idleMs: z.number().int().positive() });

export class IdleStore {
  constructor(private readonly dir: string) {}

  private file(envId: string): string {
    return path.join(this.dir, `${envId}.json`);
  }

  async set(envId: string, idleMs: number): Promise<void> {
    await writeState(this.file(envId), { envId, idleMs });
  }

  async remove(envId: string): Promise<void> {
    await rm(this.file(envId), { force: true });
  }

  /** Every environment with an idle time; a damaged record watches nothing. */
  async all(): Promise<IdleRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const records = await Promise.all(
      names
        .filter((name) => name.endsWith(".json"))
        .map((name) => readStateOrNothing(path.join(this.dir, name), idleSchema)),
    );
    return records.filter((record): record is IdleRecord => record !== undefined);
  }
}

export function openIdleStore(env: NodeJS.ProcessEnv): IdleStore {
  return new IdleStore(path.join(stateDir(env), "idle"));
}
