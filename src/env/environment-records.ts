import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import {
  BACKEND_NAMES,
  type ClusterBackendName,
  isClusterBackend,
} from "../config/backend-registry.js";
import { damagedState, lazySchema, readState } from "../state/json-state.js";
import { byCodePoint } from "../ui/text-order.js";

// What prodlike knows of each cluster environment, one JSON file per environment under
// the user's state folder. Compose environments need none (their containers carry
// labels); a cluster's objects carry labels too, but finding which clusters exist and
// which kubeconfig opens them must not require a round trip to each one.

const recordedPortSchema = lazySchema(() =>
  z.looseObject({
    name: z.string(),
    service: z.string(),
    containerPort: z.number(),
    hostPort: z.number(),
    nodePort: z.number(),
    protocol: z.enum(["http", "tcp"]),
  }),
);

export type RecordedPort = z.infer<ReturnType<typeof recordedPortSchema>>;

const clusterBackendNames = BACKEND_NAMES.filter(isClusterBackend) as [
  ClusterBackendName,
  ...ClusterBackendName[],
];

// What a record must hold to be used; fields a newer version added pass through.
const environmentRecordSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    project: z.string(),
    name: z.string(),
    backend: z.enum(clusterBackendNames),
    preset: z.string(),
    codeRoot: z.string(),
    /** The kind cluster or minikube profile; on an existing cluster, its context. */
    cluster: z.string(),
    kubeconfig: z.string(),
    context: z.string(),
    namespace: z.string(),
    ports: z.array(recordedPortSchema()),
    /** The names the local router sends to the cluster's node, and the NodePort each
     *  goes to there (an existing cluster: the forwarded port on this machine, hostPort).
     *  Absent in records from before. */
    routes: z.optional(
      z.array(
        z.object({ host: z.string(), nodePort: z.number(), hostPort: z.optional(z.number()) }),
      ),
    ),
    /** Image tags loaded into the cluster's node (loading again is skipped). */
    loadedImages: z.array(z.string()),
    /** Tags prodlike built for this environment, which `destroy` removes (a mirror loads
     *  the user's own images and builds none). Absent in records from before: all loaded. */
    builtImages: z.optional(z.array(z.string())),
    /** The rendered manifests' hash at the last successful `up`. */
    configHash: z.string(),
    createdAt: z.string(),
    /** Existing cluster: what the live sync sends the code into (the pods' containers that
     *  mount it, by workload), and what it leaves out. */
    sync: z.optional(
      z.object({
        targets: z.array(
          z.object({ selector: z.string(), container: z.string(), path: z.string() }),
        ),
        exclude: z.array(z.string()),
      }),
    ),
  }),
);

export type EnvironmentRecord = z.infer<ReturnType<typeof environmentRecordSchema>>;

export class EnvironmentRecords {
  constructor(private readonly stateDir: string) {}

  private get dir(): string {
    return path.join(this.stateDir, "environments");
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** The record; undefined when there is none. A damaged one (cut short, edited, from
   *  another version) is STATE_INVALID: the cluster it names cannot be told otherwise. */
  async get(id: string): Promise<EnvironmentRecord | undefined> {
    const read = await readState(this.file(id), environmentRecordSchema());
    if (read.kind === "missing") return undefined;
    if (read.kind === "invalid") {
      throw damagedState(
        read,
        `The record of ${id}`,
        `Delete its cluster by hand (kind delete cluster --name prodlike-${id}, minikube delete -p prodlike-${id}, or on an existing cluster the namespace labelled prodlike.dev/env=${id}) and the file, then \`prodlike up\` makes it again.`,
      );
    }
    return read.value;
  }

  /** Every record that reads; a damaged one is left out of the listing (`ls` names the
   *  others), and `get` on it says what is wrong. */
  async list(): Promise<EnvironmentRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names
        .filter((name) => name.endsWith(".json"))
        .map((name) => this.get(name.slice(0, -5)).catch(() => undefined)),
    );
    return records
      .filter((record): record is EnvironmentRecord => record !== undefined)
      .sort((a, b) => byCodePoint(a.id, b.id));
  }

  // Written to a temporary name, then renamed: a crash never leaves half a record.
  async put(record: EnvironmentRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temporary = `${this.file(record.id)}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file(record.id));
  }

  async delete(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }
}
