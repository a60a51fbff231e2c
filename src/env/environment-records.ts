import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

// What prodlike knows of each cluster environment, one JSON file per environment under
// the user's state folder. Compose environments need none (their containers carry
// labels); a cluster's objects carry labels too, but finding which clusters exist and
// which kubeconfig opens them must not require a round trip to each one.

export interface RecordedPort {
  name: string;
  service: string;
  containerPort: number;
  hostPort: number;
  nodePort: number;
  protocol: "http" | "tcp";
}

export interface EnvironmentRecord {
  id: string;
  project: string;
  name: string;
  backend: "kind" | "minikube";
  preset: string;
  codeRoot: string;
  cluster: string;
  kubeconfig: string;
  context: string;
  namespace: string;
  ports: RecordedPort[];
  /** The names the local router sends to the cluster's node, and the NodePort each
   *  goes to there. Absent in records from before. */
  routes?: { host: string; nodePort: number }[];
  /** Image tags loaded into the cluster's node (loading again is skipped). */
  loadedImages: string[];
  /** Tags prodlike built for this environment, which `destroy` removes (a mirror loads
   *  the user's own images and builds none). Absent in records from before: all loaded. */
  builtImages?: string[];
  /** The rendered manifests' hash at the last successful `up`. */
  configHash: string;
  createdAt: string;
}

export class EnvironmentRecords {
  constructor(private readonly stateDir: string) {}

  private get dir(): string {
    return path.join(this.stateDir, "environments");
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async get(id: string): Promise<EnvironmentRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.file(id), "utf8")) as EnvironmentRecord;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<EnvironmentRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names.filter((name) => name.endsWith(".json")).map((name) => this.get(name.slice(0, -5))),
    );
    return records
      .filter((record): record is EnvironmentRecord => record !== undefined)
      .sort((a, b) => a.id.localeCompare(b.id));
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
