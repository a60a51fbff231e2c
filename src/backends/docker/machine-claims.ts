import { currentProcess, isRunning, type LockHolder } from "../../env/lock.js";
import { randomHex } from "../../process/crypto-on-demand.js";
import { Label } from "../../topology/labels.js";
import type { Clock } from "../../waits/clock.js";
import type { DockerEngine } from "./docker-engine.js";

// What every user of one engine must agree on (the host ports `up`s are about to publish,
// the images they are about to use, who changes the router, which environments are being
// removed and must not be routed again meanwhile) is kept with the engine
// itself, not in a user's state folder nor in a /tmp path another local user could plant
// first: the engine is the one thing all of them share, and only its users reach it.
//
// A claim is a labelled, empty volume with a name of its own (never reused), created
// before its holder looks at the others: of two claims made at the same moment, the one
// listed second sees the first, so two holders never both miss each other. A claim whose
// process is gone (its pid and that pid's start time), or whose time is up, counts for
// nothing and is removed by whoever sees it: removing it by its unique name can never
// remove a newer claim.

export type ClaimKind = "ports" | "images" | "removal" | "lock" | "leaving";

export const ClaimLabel = {
  kind: "dev.prodlike.claim",
  key: "dev.prodlike.claim.key",
  env: "dev.prodlike.claim.env",
  uid: "dev.prodlike.claim.uid",
  pid: "dev.prodlike.claim.pid",
  started: "dev.prodlike.claim.started",
  expires: "dev.prodlike.claim.expires",
  items: "dev.prodlike.claim.items",
} as const;

export interface Claim {
  volume: string;
  kind: ClaimKind;
  /** What is claimed within the kind: a lock's name (`router`). */
  key: string;
  envId: string;
  uid: number;
  holder: LockHolder;
  /** Epoch ms after which the claim counts for nothing, whatever its process. */
  expires: number;
  /** Ports or image references. */
  items: string[];
}

export interface ClaimRequest {
  key?: string;
  envId?: string;
  items?: readonly string[];
  ttlMs: number;
}

export interface MachineClaimsDeps {
  engine: DockerEngine;
  clock: Clock;
  /** This user's uid (recorded, shown to a user who waits). */
  uid: number;
  /** Whether a recorded process still runs (tests pass their own). */
  isRunning?: (holder: LockHolder) => boolean;
}

export class MachineClaims {
  constructor(private readonly deps: MachineClaimsDeps) {}

  /** Makes a claim; it counts until released, its process ends or its time is up. */
  async make(kind: ClaimKind, request: ClaimRequest): Promise<Claim> {
    const holder = currentProcess();
    const unique = await randomHex(8);
    const claim: Claim = {
      volume: `prodlike-claim-${kind}-${unique}`,
      kind,
      key: request.key ?? "",
      envId: request.envId ?? "",
      uid: this.deps.uid,
      holder,
      expires: this.deps.clock.now() + request.ttlMs,
      items: [...(request.items ?? [])],
    };
    await this.deps.engine.createVolume(claim.volume, labelsOf(claim));
    return claim;
  }

  /** Live claims of a kind (and key) other than `mine`; dead ones found are removed. */
  async others(kind: ClaimKind, options: { key?: string; mine?: Claim } = {}): Promise<Claim[]> {
    const filter: Record<string, string> = { [ClaimLabel.kind]: kind };
    if (options.key !== undefined) filter[ClaimLabel.key] = options.key;
    const live: Claim[] = [];
    for (const volume of await this.deps.engine.labelledVolumes(filter)) {
      if (volume.name === options.mine?.volume) continue;
      const claim = claimOf(volume.name, volume.labels);
      if (claim && this.isLive(claim)) live.push(claim);
      else await this.deps.engine.removeVolume(volume.name).catch(() => undefined);
    }
    return live;
  }

  async release(claim: Claim): Promise<void> {
    await this.deps.engine.removeVolume(claim.volume).catch(() => undefined);
  }

  isLive(claim: Claim): boolean {
    if (this.deps.clock.now() >= claim.expires) return false;
    return (this.deps.isRunning ?? isRunning)(claim.holder);
  }
}

function labelsOf(claim: Claim): Record<string, string> {
  return {
    [Label.managed]: "true",
    [ClaimLabel.kind]: claim.kind,
    [ClaimLabel.key]: claim.key,
    [ClaimLabel.env]: claim.envId,
    [ClaimLabel.uid]: String(claim.uid),
    [ClaimLabel.pid]: String(claim.holder.pid),
    [ClaimLabel.started]: claim.holder.started ?? "",
    [ClaimLabel.expires]: String(claim.expires),
    [ClaimLabel.items]: claim.items.join(","),
  };
}

/** A claim read back from its labels; undefined when they are not a claim's. */
export function claimOf(volume: string, labels: Record<string, string>): Claim | undefined {
  const kind = labels[ClaimLabel.kind];
  const pid = Number(labels[ClaimLabel.pid]);
  const expires = Number(labels[ClaimLabel.expires]);
  const uid = Number(labels[ClaimLabel.uid]);
  if (
    !(
      kind === "ports" ||
      kind === "images" ||
      kind === "removal" ||
      kind === "lock" ||
      kind === "leaving"
    ) ||
    !Number.isInteger(pid) ||
    pid <= 0 ||
    !Number.isFinite(expires)
  ) {
    return undefined;
  }
  const started = labels[ClaimLabel.started];
  const items = labels[ClaimLabel.items] ?? "";
  return {
    volume,
    kind,
    key: labels[ClaimLabel.key] ?? "",
    envId: labels[ClaimLabel.env] ?? "",
    uid: Number.isInteger(uid) ? uid : -1,
    holder: { pid, ...(started ? { started } : {}) },
    expires,
    items: items === "" ? [] : items.split(","),
  };
}
