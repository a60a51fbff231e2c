import type { BackendName } from "../backends/backend.js";
import type { EnvRequest } from "../core/environments.js";
import type { CoreServices } from "../core/services.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { parseTtl } from "../ui/duration.js";
import type { Progress } from "../ui/steps.js";
import type { ActionName } from "./wire.js";

// What each button on the page runs: the same core operation as the CLI command of the
// same name (same locks, same errors), with the flags the page may set read from the
// request's JSON body and checked here. Nothing the page sends can name another target:
// the environment comes from the listing, a pull's target is always the environment
// itself (core refuses anything else), and production is only ever a pull's source.

const HEALTH_TIMEOUT_MS = 300_000;
const LOCK_TIMEOUT_MS = 600_000;

export type Work = (progress: Progress) => Promise<unknown>;

/** Where an action applies: an environment of the listing, by its checkout and name. */
export interface ActionTarget {
  id: string;
  codeRoot: string;
  name: string;
  backend: BackendName;
}

type Body = Record<string, unknown>;

const ACTIONS: Record<
  ActionName,
  (services: CoreServices, request: EnvRequest, body: Body) => Work
> = {
  up: (services, request) => async (progress) => {
    const { up } = await import("../core/operations.js");
    return up(services, { ...request, ...lifecycle(), rebuild: false }, progress);
  },
  down: (services, request) => async (progress) => {
    const { down } = await import("../core/operations.js");
    return down(services, request, progress);
  },
  destroy: (services, request, body) => async (progress) => {
    const { destroy } = await import("../core/operations.js");
    const keepSnapshots = flag(body, "keepSnapshots");
    return destroy(services, { ...request, keepImages: false, keepSnapshots }, progress);
  },
  "snapshot-create": (services, request, body) => async (progress) => {
    const { snapshotCreate } = await import("../core/db-operations.js");
    const snapshot = text(body, "snapshot");
    return snapshotCreate(services, { ...request, snapshot, pin: flag(body, "pin") }, progress);
  },
  "snapshot-restore": (services, request, body) => async (progress) => {
    const { snapshotRestore } = await import("../core/db-operations.js");
    const snapshot = text(body, "snapshot");
    return snapshotRestore(services, { ...request, ...lifecycle(), snapshot }, progress);
  },
  rollback: (services, request, body) => async (progress) => {
    const { rollback } = await import("../core/operations.js");
    const to = text(body, "to");
    return rollback(
      services,
      { ...request, ...lifecycle(), data: flag(body, "data"), to },
      progress,
    );
  },
  "db-pull": (services, request, body) => async (progress) => {
    const { dbPull } = await import("../core/db-operations.js");
    // `sanitize` is on unless the page explicitly turned it off, as on the command line.
    const sanitize = body.sanitize !== false;
    return dbPull(services, { ...request, from: text(body, "from"), sanitize }, progress);
  },
  "cache-purge": (services, request) => async (progress) => {
    const { purgeCaches } = await import("../core/operations.js");
    return purgeCaches(services, request, progress);
  },
  xdebug: (services, request, body) => async (progress) => {
    const { xdebug } = await import("../core/xdebug.js");
    return xdebug(services, { ...request, action: flag(body, "on") ? "on" : "off" }, progress);
  },
  ttl: (services, request, body) => {
    const ttl = parseTtl(text(body, "ttl") ?? "", "ttl");
    return async (progress) => {
      const { setLifetime } = await import("../core/lifetime.js");
      return setLifetime(services, { ...request, ttl }, progress);
    };
  },
};

export function isAction(name: string): name is ActionName {
  return Object.hasOwn(ACTIONS, name);
}

/** The work of `action` on `target`; a wrong body fails here, before anything runs. */
export function actionWork(
  services: CoreServices,
  action: ActionName,
  target: ActionTarget,
  body: Body,
): Work {
  const request: EnvRequest = {
    dir: target.codeRoot,
    name: target.name,
    backend: target.backend,
    lockTimeoutMs: LOCK_TIMEOUT_MS,
  };
  const work = ACTIONS[action](services, request, body);
  // The checkout may now name another environment (its prodlike.yaml changed): refused
  // rather than acting on one the page did not show.
  return async (progress) => {
    const { resolveTarget } = await import("../core/plan.js");
    const { identity } = await resolveTarget(services, request);
    if (identity.id !== target.id) {
      throw new ProdlikeError(
        "ENV_NOT_FOUND",
        `${target.codeRoot} now names ${identity.id}, not ${target.id}`,
        {
          hint: `Run it from a terminal in that checkout: prodlike ${action.replace("-", " ")} --name ${target.name}`,
        },
      );
    }
    return work(progress);
  };
}

/** A new QA environment from the form: a checkout (with its prodlike.yaml), preset or
 *  production's layout, a name, a lifetime, a seed (another environment or snapshot). */
export function createWork(services: CoreServices, body: Body): { envName: string; work: Work } {
  const dir = text(body, "dir");
  if (!dir?.startsWith("/")) {
    throw new ProdlikeError("USAGE", "The project folder must be an absolute path", {
      hint: "The folder of a checkout with a prodlike.yaml, e.g. /home/you/shop.",
    });
  }
  const name = text(body, "name");
  if (name !== undefined && !/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) {
    throw new ProdlikeError("USAGE", `Invalid environment name \`${name}\``, {
      hint: "Lowercase letters, digits and dashes, at most 31.",
    });
  }
  const ttlText = text(body, "ttl");
  const ttl = ttlText ? parseTtl(ttlText, "ttl") : undefined;
  // The preset is the checkout's own (prodlike.yaml); `mirror` runs production's layout.
  const mirror = flag(body, "mirror");
  const seedFrom = text(body, "seedFrom");
  return {
    envName: name ?? "local",
    work: async (progress) => {
      const { up } = await import("../core/operations.js");
      return up(
        services,
        { dir, name, ...lifecycle(), rebuild: false, ttl, mirror, seedFrom },
        progress,
      );
    },
  };
}

function lifecycle(): { healthTimeoutMs: number; lockTimeoutMs: number } {
  return { healthTimeoutMs: HEALTH_TIMEOUT_MS, lockTimeoutMs: LOCK_TIMEOUT_MS };
}

function text(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || value.length > 4096) {
    throw new ProdlikeError("USAGE", `\`${key}\` must be a short text`);
  }
  return value;
}

function flag(body: Body, key: string): boolean {
  const value = body[key];
  if (value === undefined) return false;
  if (typeof value !== "boolean")
    throw new ProdlikeError("USAGE", `\`${key}\` must be true or false`);
  return value;
}
