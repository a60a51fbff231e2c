import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { stateDir } from "../config/user-settings.js";
import { writeState } from "../state/json-state.js";

// Whether an environment's database held an installed site when prodlike last asked it
// (the preset's install.check). A stopped environment's database cannot be asked: its
// next `up` renders what was true when it stopped, so an installed shop does not come
// back as an installable one (and the reverse).

const recordSchema = z.strictObject({ installed: z.boolean(), checkedAt: z.string() });

export class InstallStates {
  constructor(private readonly dir: string) {}

  private file(envId: string): string {
    return path.join(this.dir, `${envId}.json`);
  }

  /** What was last seen; undefined when never asked (or the record is unreadable). */
  async get(envId: string): Promise<boolean | undefined> {
    try {
      const parsed = recordSchema.safeParse(
        JSON.parse(await readFile(this.file(envId), "utf8")) as unknown,
      );
      return parsed.success ? parsed.data.installed : undefined;
    } catch {
      return undefined;
    }
  }

  async set(envId: string, installed: boolean, now: Date): Promise<void> {
    await writeState(this.file(envId), { installed, checkedAt: now.toISOString() });
  }

  async remove(envId: string): Promise<void> {
    await rm(this.file(envId), { force: true });
  }
}

export function openInstallStates(env: NodeJS.ProcessEnv): InstallStates {
  return new InstallStates(path.join(stateDir(env), "installed"));
}
