import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";

// Compose comes in two shapes: the `docker compose` plugin (v2, what most users have) and
// the standalone `docker-compose` 1.29 (some hosts still only have it). Lifecycle goes
// through whichever exists, using only flags both accept; health, events and logs are
// observed through the engine API, so nothing depends on v2-only flags like `--wait`.

export interface ComposeFlavour {
  version: "v1" | "v2";
  /** argv[0] and the arguments before compose's own (`docker` + `compose`). */
  file: string;
  prefix: readonly string[];
  versionText: string;
}

export const COMPOSE_V2: Omit<ComposeFlavour, "versionText"> = {
  version: "v2",
  file: "docker",
  prefix: ["compose"],
};
export const COMPOSE_V1: Omit<ComposeFlavour, "versionText"> = {
  version: "v1",
  file: "docker-compose",
  prefix: [],
};

// Finds compose: v2 first, then v1. PRODLIKE_COMPOSE=v1|v2 forces one.
export async function detectCompose(
  runner: CommandRunner,
  forced: string | undefined,
): Promise<ComposeFlavour> {
  const candidates =
    forced === "v1" ? [COMPOSE_V1] : forced === "v2" ? [COMPOSE_V2] : [COMPOSE_V2, COMPOSE_V1];
  for (const candidate of candidates) {
    const result = await runner.run(candidate.file, [...candidate.prefix, "version", "--short"]);
    if (result.exitCode === 0 && /\d+\.\d+/.test(result.stdout)) {
      return { ...candidate, versionText: result.stdout.trim() };
    }
  }
  throw new ProdlikeError(
    "COMPOSE_MISSING",
    "Neither `docker compose` (v2) nor `docker-compose` (v1) works here",
    {
      hint: "Install the compose plugin (Debian: apt-get install docker-compose-plugin, or docker-compose for v1).",
    },
  );
}

export interface ComposeProject {
  name: string;
  file: string;
}

// The argv for one compose call. Only flags that v1 1.29 and v2 both accept.
export function composeArgs(
  flavour: Pick<ComposeFlavour, "prefix">,
  project: ComposeProject,
  command: ComposeCommand,
): string[] {
  return [
    ...flavour.prefix,
    "--project-name",
    project.name,
    "--file",
    project.file,
    ...commandArgs(command),
  ];
}

export type ComposeCommand =
  | { kind: "up"; recreate?: readonly string[] }
  | { kind: "stop"; timeoutSeconds: number }
  | { kind: "start" }
  | { kind: "down"; removeVolumes: boolean; timeoutSeconds: number }
  | { kind: "logs"; follow: boolean; tail: number; color: boolean; services: string[] }
  | { kind: "config" };

function commandArgs(command: ComposeCommand): string[] {
  switch (command.kind) {
    case "up":
      // Images are built by prodlike beforehand (content-addressed tags), so compose never
      // builds; --remove-orphans drops services a changed preset no longer has.
      return [
        "up",
        "--detach",
        "--no-build",
        "--remove-orphans",
        ...(command.recreate && command.recreate.length > 0
          ? ["--force-recreate", "--no-deps", ...command.recreate]
          : []),
      ];
    case "stop":
      return ["stop", "--timeout", String(command.timeoutSeconds)];
    case "start":
      // The containers as they were made: nothing compared, re-created or pulled.
      return ["start"];
    case "down":
      return [
        "down",
        "--remove-orphans",
        "--timeout",
        String(command.timeoutSeconds),
        ...(command.removeVolumes ? ["--volumes"] : []),
      ];
    case "logs":
      return [
        "logs",
        "--tail",
        String(command.tail),
        ...(command.follow ? ["--follow"] : []),
        ...(command.color ? [] : ["--no-color"]),
        ...command.services,
      ];
    case "config":
      return ["config", "--quiet"];
  }
}
