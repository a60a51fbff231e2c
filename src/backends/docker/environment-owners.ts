import { randomHex } from "../../process/crypto-on-demand.js";
import { Label } from "../../topology/labels.js";
import type { DockerEngine } from "./docker-engine.js";

// Who an environment belongs to, kept with the engine so every user of it sees the same
// answer: a labelled, empty volume named after the environment, made by its first `up`
// and removed by its `destroy`. The engine creates a name once: of two `up`s racing for
// one id, the one whose nonce the volume carries is the owner. The local router routes
// only environments recorded here, under their own names.

export interface OwnerRecord {
  envId: string;
  /** The owner's uid (-1 where the platform has none). */
  uid: number;
  /** The checkout it was made from. */
  codeRoot: string;
  project: string;
  name: string;
  /** When it was recorded (ISO 8601): of two claims on one host name, the first keeps it. */
  createdAt: string;
}

export const OwnerLabel = {
  record: "dev.prodlike.owner",
  env: "dev.prodlike.owner.env",
  uid: "dev.prodlike.owner.uid",
  codeRoot: "dev.prodlike.owner.code-root",
  project: "dev.prodlike.owner.project",
  name: "dev.prodlike.owner.name",
  createdAt: "dev.prodlike.owner.created-at",
  nonce: "dev.prodlike.owner.nonce",
} as const;

export class EnvironmentOwners {
  constructor(private readonly engine: DockerEngine) {}

  async get(envId: string): Promise<OwnerRecord | undefined> {
    const labels = await this.engine.volumeLabels(volumeName(envId));
    return labels ? recordOf(labels) : undefined;
  }

  /** Records `record` unless the id is recorded already: the record that holds. */
  async claim(record: OwnerRecord): Promise<OwnerRecord> {
    const nonce = await randomHex(8);
    const labels = await this.engine.createVolume(volumeName(record.envId), {
      ...labelsOf(record),
      [OwnerLabel.nonce]: nonce,
    });
    const held = recordOf(labels);
    if (!held)
      throw new Error(
        `the engine holds a volume ${volumeName(record.envId)} that is not prodlike's record`,
      );
    return held;
  }

  /** The owner's own move of a checkout (`--force`): the record made again for `record`. */
  async replace(record: OwnerRecord): Promise<OwnerRecord> {
    await this.remove(record.envId);
    return this.claim(record);
  }

  async remove(envId: string): Promise<void> {
    await this.engine.removeVolume(volumeName(envId));
  }

  async list(): Promise<OwnerRecord[]> {
    const volumes = await this.engine.labelledVolumes({ [OwnerLabel.record]: "environment" });
    return volumes
      .map((volume) => recordOf(volume.labels))
      .filter((record): record is OwnerRecord => record !== undefined);
  }
}

export function ownerVolumeName(envId: string): string {
  return volumeName(envId);
}

function volumeName(envId: string): string {
  return `prodlike-env-${envId}`;
}

function labelsOf(record: OwnerRecord): Record<string, string> {
  return {
    [Label.managed]: "true",
    [OwnerLabel.record]: "environment",
    [OwnerLabel.env]: record.envId,
    [OwnerLabel.uid]: String(record.uid),
    [OwnerLabel.codeRoot]: record.codeRoot,
    [OwnerLabel.project]: record.project,
    [OwnerLabel.name]: record.name,
    [OwnerLabel.createdAt]: record.createdAt,
  };
}

function recordOf(labels: Record<string, string>): OwnerRecord | undefined {
  const envId = labels[OwnerLabel.env];
  const uid = Number(labels[OwnerLabel.uid]);
  const codeRoot = labels[OwnerLabel.codeRoot];
  const project = labels[OwnerLabel.project];
  const name = labels[OwnerLabel.name];
  if (labels[OwnerLabel.record] !== "environment" || !envId || !codeRoot || !project || !name) {
    return undefined;
  }
  return {
    envId,
    uid: Number.isInteger(uid) ? uid : -1,
    codeRoot,
    project,
    name,
    createdAt: labels[OwnerLabel.createdAt] ?? "",
  };
}
