import type { BackendName } from "../../backends/backend.js";
import {
  snapshotCreate,
  snapshotList,
  snapshotPrune,
  snapshotRestore,
} from "../../core/db-operations.js";
import type { SnapshotMeta } from "../../db/snapshots.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { hookFlags, lockTimeoutMs, secondsFlag, services } from "./common.js";

interface SnapshotFlags {
  dir: string;
  name?: string;
  backend?: BackendName;
  pin?: boolean;
  latest?: boolean;
  keep?: string;
  healthTimeout?: string;
  lockTimeout?: string;
  hooks?: boolean;
}

const describe = (
  meta: SnapshotMeta & { ready?: boolean; readyBytes?: number; usedBy?: string[] },
) =>
  `${meta.name.padEnd(20)} ${meta.createdAt}  ${(meta.bytes / 1e6).toFixed(1).padStart(8)} MB${readiness(meta)}${meta.pinned ? "  pinned" : ""}${meta.usedBy ? `  pinned: seeds ${meta.usedBy.join(", ")}` : ""}${meta.automatic ? "  automatic" : ""}`;

// Ready: prepared on the data volume, restored with a rename; cold: unpacked first.
function readiness(meta: { ready?: boolean; readyBytes?: number }): string {
  if (meta.ready === undefined) return "";
  if (!meta.ready) return "  cold";
  return meta.readyBytes === undefined
    ? "  ready"
    : `  ready (${(meta.readyBytes / 1e6).toFixed(1)} MB on the volume)`;
}

export async function createCommand(output: Output, flags: SnapshotFlags, name?: string) {
  const meta = await snapshotCreate(
    await services(),
    { ...flags, snapshot: name, pin: flags.pin ?? false },
    await output.progress(),
  );
  output.result("snapshot create", { snapshot: meta }, () => `Snapshot ${describe(meta)}`);
  return 0;
}

export async function listCommand(output: Output, flags: SnapshotFlags) {
  const { id, snapshots } = await snapshotList(await services(), flags);
  output.result("snapshot list", { id, snapshots }, () =>
    snapshots.length === 0
      ? `${id} has no snapshots. Make one: prodlike snapshot create`
      : snapshots.map(describe).join("\n"),
  );
  return 0;
}

export async function restoreCommand(output: Output, flags: SnapshotFlags, name?: string) {
  if (name && flags.latest) {
    throw new ProdlikeError("USAGE", "Give a snapshot name or --latest, not both");
  }
  const restored = await snapshotRestore(
    await services(),
    {
      ...flags,
      snapshot: name,
      healthTimeoutMs: secondsFlag(flags.healthTimeout ?? "300", "--health-timeout"),
      lockTimeoutMs: lockTimeoutMs(flags),
      ...hookFlags(flags),
    },
    await output.progress(),
  );
  output.result("snapshot restore", { snapshot: restored }, () =>
    [
      `Restored ${restored.name} in ${(restored.durationMs / 1000).toFixed(1)} s (${
        restored.path === "prepared"
          ? "its prepared copy switched in"
          : "unpacked from the snapshot"
      }: the database answered after ${(restored.switchMs / 1000).toFixed(1)} s).${
        restored.readyAgain ? ` ${restored.name} is prepared again for the next restore.` : ""
      }`,
      ...restored.refreshed.map((step) => `  refreshed: ${step}`),
    ].join("\n"),
  );
  return 0;
}

export async function pruneCommand(output: Output, flags: SnapshotFlags) {
  const keep = Number(flags.keep);
  if (!Number.isInteger(keep) || keep < 0) {
    throw new ProdlikeError("USAGE", `--keep must be a whole number, got ${flags.keep}`);
  }
  const result = await snapshotPrune(await services(), { ...flags, keep });
  output.result("snapshot prune", { ...result }, () =>
    result.removed.length === 0
      ? "Nothing to prune."
      : `Removed ${result.removed.map((meta) => meta.name).join(", ")}.`,
  );
  return 0;
}
