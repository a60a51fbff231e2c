import { mkdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as z from "zod/mini";
import { lazySchema, readStateOrNothing } from "../../state/json-state.js";
import type { ComposeFlavour } from "./compose-cli.js";

// Finding compose means running it, and `docker-compose` 1.29 is a Python program that
// takes half a second to print its version. The answer is kept in the state folder under
// a key made of every file that could change it (the binaries on PATH and the CLI plugin
// folders, with their modification times), so installing or upgrading compose is seen.

const PLUGIN_DIRS = [
  path.join(os.homedir(), ".docker", "cli-plugins"),
  "/usr/local/lib/docker/cli-plugins",
  "/usr/local/libexec/docker/cli-plugins",
  "/usr/lib/docker/cli-plugins",
  "/usr/libexec/docker/cli-plugins",
];

export async function composeCacheKey(env: NodeJS.ProcessEnv): Promise<string> {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const candidates = [
    ...dirs.flatMap((dir) => [path.join(dir, "docker"), path.join(dir, "docker-compose")]),
    ...[env.DOCKER_CONFIG ? path.join(env.DOCKER_CONFIG, "cli-plugins") : undefined, ...PLUGIN_DIRS]
      .filter((dir): dir is string => dir !== undefined)
      .map((dir) => path.join(dir, "docker-compose")),
  ];
  const stamps = await Promise.all(
    candidates.map(async (file) => {
      const info = await stat(file).catch(() => undefined);
      return info ? `${file}@${info.mtimeMs}:${info.size}` : "";
    }),
  );
  return JSON.stringify([env.PRODLIKE_COMPOSE ?? "", ...stamps.filter(Boolean)]);
}

const entrySchema = lazySchema(() =>
  z.object({
    key: z.string(),
    flavour: z.object({
      version: z.enum(["v1", "v2"]),
      file: z.string(),
      prefix: z.array(z.string()),
      versionText: z.string(),
    }),
  }),
);

export class ComposeDetectionCache {
  private readonly file: string;

  constructor(stateFolder: string) {
    this.file = path.join(stateFolder, "compose-detection.json");
  }

  // A damaged entry is a miss: compose is looked for again.
  async get(key: string): Promise<ComposeFlavour | undefined> {
    const entry = await readStateOrNothing(this.file, entrySchema());
    return entry?.key === key ? entry.flavour : undefined;
  }

  async set(key: string, flavour: ComposeFlavour): Promise<void> {
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(this.file, JSON.stringify({ key, flavour }));
    } catch {
      // Only speed is lost.
    }
  }
}
