import type { BackendName } from "../../backends/backend.js";
import { up } from "../../core/operations.js";
import type { SeedReport } from "../../core/seed.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { parseTtl } from "../../ui/duration.js";
import { formatStatus } from "../format.js";
import type { Output } from "../output.js";
import { describeLock } from "./access.js";
import { hookFlags, lockTimeoutMs, secondsFlag, services } from "./common.js";
import { startWaker } from "./lifecycle.js";

interface UpFlags {
  dir: string;
  name?: string;
  backend?: BackendName;
  rebuild: boolean;
  healthTimeout: string;
  lockTimeout: string;
  hooks?: boolean;
  ttl?: string;
  seedFrom?: string;
  mirror: boolean;
  from?: string;
  rmOnFailure: boolean;
  bake: boolean;
  ref?: string;
  lock: boolean;
  idle?: string;
}

export default async function upCommand(output: Output, flags: UpFlags): Promise<number> {
  if (flags.from !== undefined && !flags.mirror) {
    throw new ProdlikeError("USAGE", "--from names production's manifests: it needs --mirror", {
      hint: "prodlike up --mirror --from k8s/prod runs production's layout.",
    });
  }
  const started = Date.now();
  const core = await services();
  const progress = await output.progress();
  const result = await up(
    core,
    {
      dir: flags.dir,
      name: flags.name,
      backend: flags.backend,
      rebuild: flags.rebuild,
      healthTimeoutMs: secondsFlag(flags.healthTimeout, "--health-timeout"),
      lockTimeoutMs: lockTimeoutMs(flags),
      ...hookFlags(flags),
      ttl: flags.ttl === undefined ? undefined : parseTtl(flags.ttl),
      seedFrom: flags.seedFrom,
      mirror: flags.mirror,
      from: flags.from,
      removeOnFailure: flags.rmOnFailure,
      bake: flags.bake,
      ref: flags.ref,
      lock: flags.lock,
      idle: flags.idle === undefined ? undefined : parseTtl(flags.idle, "--idle"),
    },
    progress,
  );
  // Put to sleep when idle: by the user's waker, which must run.
  const waker = result.idleMs ? await startWaker(core) : undefined;
  if (result.idleMs && !waker) {
    progress.warn(
      "No waker (the local router is off or not running): `idle:` cannot put it to sleep.",
    );
  }
  output.result(
    "up",
    {
      changed: result.changed,
      urls: result.status.urls,
      environment: result.status,
      ...(result.seeded ? { seeded: result.seeded } : {}),
      ...(result.install ? { install: result.install } : {}),
      ...(result.application ? { application: result.application } : {}),
      ...(result.lock ? { lock: result.lock } : {}),
      ...(result.idleMs ? { idleMs: result.idleMs } : {}),
      hooks: result.hooks ?? [],
      durationMs: Date.now() - started,
    },
    () =>
      [
        `${result.changed ? "" : "Already up to date.\n"}${formatStatus(result.status, output.colour)}`,
        ...(result.seeded ? [describeSeed(result.seeded)] : []),
        ...(result.lock ? [describeLock(result.lock)] : []),
        ...(result.application
          ? [
              `No application in the checkout yet (${result.application.entry} is missing): \`prodlike run create\` makes one, where the preset offers it.`,
            ]
          : result.install && !result.install.installed
            ? [`Not installed yet: \`${result.install.command}\` installs the site.`]
            : []),
      ].join("\n"),
  );
  return 0;
}

function describeSeed(seed: SeedReport): string {
  const from = `${seed.from}${seed.snapshot ? `:${seed.snapshot}` : ""}`;
  if (!seed.applied) return `Not seeded from ${from}: ${seed.reason}.`;
  return seed.method === "layered"
    ? `Seeded from ${from} copy-on-write (layered on seed ${seed.seed}; nothing copied).`
    : `Seeded from ${from} (copied${seed.copiedBecause ? `: ${seed.copiedBecause}` : ""}).`;
}
