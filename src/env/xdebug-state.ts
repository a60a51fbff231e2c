import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { stateDir } from "../config/user-settings.js";
import { writeState } from "../state/json-state.js";

// Whether prodlike last switched Xdebug on or off in an environment, one small file per
// environment: `ls --json` and the dashboard show it without running `php -m` in every
// container. `prodlike xdebug status` asks the containers themselves and writes what they
// said back here; a re-created container starts with Xdebug off until then.

export interface XdebugRecord {
  envId: string;
  enabled: boolean;
  /** ISO time of the switch or check. */
  at: string;
}

export class XdebugStateStore {
  constructor(private readonly dir: string) {}

  private file(envId: string): string {
    return path.join(this.dir, `${envId}.json`);
  }

  async set(envId: string, enabled: boolean, now: Date): Promise<void> {
    const record: XdebugRecord = { envId, enabled, at: now.toISOString() };
    await writeState(this.file(envId), record);
  }

  async remove(envId: string): Promise<void> {
    await rm(this.file(envId), { force: true });
  }

  /** Every record, by environment id (one folder listing). */
  async all(): Promise<Map<string, XdebugRecord>> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names
        .filter((name) => name.endsWith(".json"))
        .map(async (name) => {
          try {
            const record = JSON.parse(await readFile(path.join(this.dir, name), "utf8")) as unknown;
            return isRecord(record) ? record : undefined;
          } catch {
            return undefined;
          }
        }),
    );
    return new Map(
      records
        .filter((record): record is XdebugRecord => record !== undefined)
        .map((record) => [record.envId, record]),
    );
  }
}

function isRecord(value: unknown): value is XdebugRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.envId === "string" && typeof record.enabled === "boolean";
}

export function openXdebugState(env: NodeJS.ProcessEnv): XdebugStateStore {
  return new XdebugStateStore(path.join(stateDir(env), "xdebug"));
}
