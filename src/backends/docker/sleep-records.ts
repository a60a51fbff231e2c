import { Label } from "../../topology/labels.js";
import type { DockerEngine } from "./docker-engine.js";

// Which environments sleep (`prodlike sleep`, or idle past prodlike.yaml `idle:`), kept
// with the engine so every prodlike (the router's wake-up, the dashboard, another
// terminal) sees the same answer: an empty volume labelled with the environment, made
// when it falls asleep and removed when it wakes. Its environment's label makes its
// destroy remove it with the rest.

export const SleepLabel = {
  since: "dev.prodlike.sleeping.since",
  /** `command` (prodlike sleep) or `idle` (no request for prodlike.yaml `idle:`). */
  reason: "dev.prodlike.sleeping.reason",
  /** ADDRESS:PORT of its owner's waker, which the router sends its names to meanwhile. */
  waker: "dev.prodlike.sleeping.waker",
  /** Its router names, comma-separated. */
  hosts: "dev.prodlike.sleeping.hosts",
} as const;

export type SleepReason = "command" | "idle";

export interface SleepRecord {
  envId: string;
  /** ISO time it fell asleep. */
  since: string;
  reason: SleepReason;
  /** Where a request to one of `hosts` wakes it (see core/waker.ts). */
  waker?: string;
  hosts?: string[];
}

export function sleepVolumeName(envId: string): string {
  return `${envId}_prodlike-sleeping`;
}

export class SleepRecords {
  constructor(private readonly engine: DockerEngine) {}

  /** Replaces an earlier record: a sleep again points the router at the waker running now
   *  (the one recorded may be gone: killed, the machine restarted). */
  async mark(record: SleepRecord): Promise<void> {
    await this.engine.removeVolume(sleepVolumeName(record.envId));
    await this.engine.createVolume(sleepVolumeName(record.envId), {
      [Label.managed]: "true",
      [Label.env]: record.envId,
      [SleepLabel.since]: record.since,
      [SleepLabel.reason]: record.reason,
      ...(record.waker ? { [SleepLabel.waker]: record.waker } : {}),
      ...(record.hosts?.length ? { [SleepLabel.hosts]: record.hosts.join(",") } : {}),
    });
  }

  async clear(envId: string): Promise<void> {
    await this.engine.removeVolume(sleepVolumeName(envId));
  }

  async all(): Promise<Map<string, SleepRecord>> {
    const volumes = await this.engine.labelledVolumes({ [SleepLabel.since]: true });
    const records = new Map<string, SleepRecord>();
    for (const volume of volumes) {
      const envId = volume.labels[Label.env];
      const since = volume.labels[SleepLabel.since];
      if (!envId || !since || volume.name !== sleepVolumeName(envId)) continue;
      const waker = volume.labels[SleepLabel.waker];
      const hosts = volume.labels[SleepLabel.hosts];
      records.set(envId, {
        envId,
        since,
        reason: volume.labels[SleepLabel.reason] === "idle" ? "idle" : "command",
        ...(waker && /^[0-9a-f.:]+:\d+$/.test(waker) ? { waker } : {}),
        ...(hosts ? { hosts: hosts.split(",").filter((host) => host !== "") } : {}),
      });
    }
    return records;
  }
}
