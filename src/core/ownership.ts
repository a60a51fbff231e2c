import type { Backend } from "../backends/backend.js";
import { EnvironmentOwners, type OwnerRecord } from "../backends/docker/environment-owners.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Target } from "./plan.js";
import type { CoreServices } from "./services.js";

// An environment belongs to the user and the checkout whose `up` made it. Every change
// (up, down, destroy, rollback, db import and pull, snapshots, files pull) is refused
// for another checkout or another user with one error, ENV_OWNED; the owner's `--force`
// takes it over from a checkout that was moved or deleted. The record is the engine's
// (environment-owners.ts), so another user's prodlike sees it too. An environment made
// before records existed is judged by its containers' code-root label until its next up.

export interface OwnershipOptions {
  /** `--force`: the owner's own environment, from a checkout that was moved. */
  force?: boolean | undefined;
}

/** `up`: the environment recorded as this checkout's, or ENV_OWNED. `recorded`: this call
 *  made the record (the environment is new). */
export async function claimOwnership(
  services: Pick<CoreServices, "engine" | "developer" | "clock">,
  target: Target,
  backend: Pick<Backend, "ownerCodeRoot">,
  options: OwnershipOptions = {},
): Promise<{ recorded: boolean }> {
  const owners = new EnvironmentOwners(await services.engine());
  const mine = ownRecord(services, target);
  const recorded = await owners.get(mine.envId);
  if (recorded) {
    if (sameOwner(recorded, mine)) return { recorded: false };
    if (options.force && recorded.uid === mine.uid) {
      await owners.replace(mine);
      return { recorded: false };
    }
    throw ownedElsewhere(mine, recorded);
  }
  const legacy = await backend.ownerCodeRoot(mine.envId);
  if (legacy !== undefined && legacy !== mine.codeRoot && !options.force) {
    throw ownedElsewhere(mine, { ...mine, codeRoot: legacy });
  }
  const held = await owners.claim(mine);
  if (!sameOwner(held, mine)) throw ownedElsewhere(mine, held);
  return { recorded: legacy === undefined };
}

/** Any other change: refused unless the environment is this checkout's (or unrecorded). */
export async function requireOwnership(
  services: Pick<CoreServices, "engine" | "developer" | "clock">,
  target: Target,
  backend: Pick<Backend, "ownerCodeRoot"> | undefined,
  options: OwnershipOptions = {},
): Promise<void> {
  const mine = ownRecord(services, target);
  const recorded = await new EnvironmentOwners(await services.engine()).get(mine.envId);
  const owner =
    recorded ??
    (backend
      ? await backend
          .ownerCodeRoot(mine.envId)
          .then((codeRoot) => (codeRoot === undefined ? undefined : { ...mine, codeRoot }))
      : undefined);
  if (!owner || sameOwner(owner, mine)) return;
  if (options.force && owner.uid === mine.uid) return;
  throw ownedElsewhere(mine, owner);
}

/** The record of an environment this user's `destroy` removes (after everything else). */
export async function forgetOwnership(
  services: Pick<CoreServices, "engine">,
  envId: string,
): Promise<void> {
  await new EnvironmentOwners(await services.engine()).remove(envId);
}

function ownRecord(
  services: Pick<CoreServices, "developer" | "clock">,
  target: Target,
): OwnerRecord {
  return {
    envId: target.identity.id,
    uid: services.developer?.uid ?? -1,
    codeRoot: target.loaded.codeRoot,
    project: target.identity.project,
    name: target.identity.name,
    createdAt: new Date(services.clock.now()).toISOString(),
  };
}

// Project and name too: `ht` + `two-ht-x` and `ht-two` + `ht-x` are both `ht-two-ht-x`.
function sameOwner(recorded: OwnerRecord, mine: OwnerRecord): boolean {
  return (
    recorded.uid === mine.uid &&
    recorded.codeRoot === mine.codeRoot &&
    recorded.project === mine.project &&
    recorded.name === mine.name
  );
}

/** The one error every operation gives for an environment that is not this checkout's. */
export function ownedElsewhere(mine: OwnerRecord, owner: OwnerRecord): ProdlikeError {
  const otherUser = owner.uid !== mine.uid;
  const sameId = owner.project !== mine.project || owner.name !== mine.name;
  const whose = otherUser
    ? `another user (uid ${owner.uid}), checkout ${owner.codeRoot}`
    : sameId
      ? `project ${owner.project}, environment ${owner.name} (${owner.codeRoot}): the same id`
      : owner.codeRoot;
  return new ProdlikeError("ENV_OWNED", `Environment ${mine.envId} already belongs to ${whose}`, {
    hint: otherUser
      ? "Give this checkout its own environment: --name NAME, or set `name:` in prodlike.yaml. Only its owner can change or remove it."
      : `Give this checkout its own environment: --name NAME, or set \`name:\` in prodlike.yaml.${sameId ? "" : ` If ${owner.codeRoot} was moved or deleted, \`prodlike destroy --force\` here removes its environment.`}`,
    data: { envId: mine.envId, ownerUid: owner.uid, ownerCodeRoot: owner.codeRoot },
  });
}
