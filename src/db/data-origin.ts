import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import { stateDir } from "../config/user-settings.js";
import { lazySchema, readStateOrNothing } from "../state/json-state.js";

// Where an environment's data came from, so `status` can say that a pull was not
// sanitized: production data on a laptop should never be a surprise.

export interface DataOrigin {
  /** `@prod (drush, ssh …)`, a dump file's name, a snapshot. */
  source: string;
  kind: "pull" | "import" | "seed";
  at: string;
  /** false: production data as it is (`--no-sanitize`); undefined: not known (an import). */
  sanitized?: boolean | undefined;
}

const dataOriginSchema = lazySchema(() =>
  z.object({
    source: z.string(),
    kind: z.enum(["pull", "import", "seed"]),
    at: z.string(),
    sanitized: z.optional(z.boolean()),
  }),
);

export class DataOriginStore {
  constructor(private readonly file: string) {}

  // A damaged record says nothing (status then shows no origin), never a wrong one.
  async read(): Promise<DataOrigin | undefined> {
    return readStateOrNothing(this.file, dataOriginSchema());
  }

  async write(origin: DataOrigin): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFile(this.file, `${JSON.stringify(origin, null, 2)}\n`, { mode: 0o600 });
  }

  async remove(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

export function openDataOrigin(env: NodeJS.ProcessEnv, envId: string): DataOriginStore {
  return new DataOriginStore(path.join(stateDir(env), "data-origin", `${envId}.json`));
}
