import { PassThrough, Readable, type Writable } from "node:stream";
import type { Backend, RestartOptions } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { Progress } from "../ui/steps.js";
import { importDump } from "./import-dump.js";
import type { LocalDatabase } from "./local-database.js";
import type { PullPlan, SanitizeStep } from "./pull-plan.js";
import { sanitizeFailure, sanitizeScript } from "./sanitize-sql.js";
import {
  AutomaticPrefix,
  createSnapshot,
  defaultSnapshotName,
  restoreSnapshot,
  type SnapshotStore,
} from "./snapshots.js";
import type { SubsetReport } from "./subset-cut.js";

// `db pull`: runs a plan from pull-plan.ts. Streamed pulls (mysqldump over a transport,
// drush sql:dump) go through the same staging import as `db import`, sanitized before the
// switch, so a failure anywhere leaves the live data as it was. drush sql:sync writes
// the live database itself, so a snapshot is taken first and restored on failure.

export interface PullDeps {
  db: LocalDatabase;
  runner: CommandRunner;
  backend: Backend;
  envId: string;
  /** The service drush runs in (role cli); needed by the drush strategies. */
  cliService: string | undefined;
  snapshots: SnapshotStore;
  restartDb: (options?: RestartOptions) => Promise<void>;
}

export interface PullReport {
  source: string;
  strategy: PullPlan["strategy"];
  database: string;
  /** Bytes that came over the transport (undefined for sql:sync, which copies itself). */
  bytes: number | undefined;
  durationMs: number;
  megabytesPerSecond: number | undefined;
  tables: number;
  structureTables: string[];
  sanitized: boolean;
  fixes: string[];
  /** The snapshot taken before a sql:sync. */
  snapshot?: string | undefined;
  /** `--subset`: how the slice was cut. */
  subset?: SubsetReport;
}

export async function runPull(
  plan: PullPlan,
  deps: PullDeps,
  progress: Progress,
  signal: AbortSignal,
): Promise<PullReport> {
  const started = Date.now();
  const sanitized = plan.sanitizeSql.length > 0 || plan.drushSanitize;
  if (plan.strategy === "drush-sync") {
    const snapshot = await syncWithSnapshot(plan, deps, progress, signal);
    const database = await deps.db.name();
    return {
      source: plan.source,
      strategy: plan.strategy,
      database,
      bytes: undefined,
      durationMs: Date.now() - started,
      megabytesPerSecond: undefined,
      tables: (await deps.db.contents(database)).tables,
      structureTables: plan.structureTables,
      sanitized,
      fixes: [],
      snapshot,
    };
  }

  const produce =
    plan.strategy === "mysqldump" || plan.strategy === "drush-dump-remote"
      ? (out: Writable) =>
          deps.runner.stream(plan.transport.file, plan.transport.args, {
            stdin: Readable.from([plan.script]),
            stdout: out,
          })
      : (out: Writable) =>
          deps.backend.execStream(deps.envId, {
            service: requireCli(deps),
            command: plan.command,
            stdout: out,
          });
  const producer = startProducer(produce, plan);
  const report = await importDump(
    deps.db,
    {
      open: () => producer.stream,
      reopenable: false,
      sectioned: plan.strategy === "mysqldump",
      label: plan.source,
    },
    progress,
    signal,
    {
      finished: () => producer.done,
      // In the switch's own client run, on the staging copy: nothing unsanitized is ever
      // live, and no round trip of its own.
      ...(plan.sanitizeSql.length ? { sanitize: plan.sanitizeSql } : {}),
      ...(plan.subset ? { subset: plan.subset } : {}),
    },
  );
  if (plan.drushSanitize) await drushSanitize(deps, progress);
  return {
    source: plan.source,
    strategy: plan.strategy,
    database: report.database,
    bytes: report.bytes,
    durationMs: Date.now() - started,
    megabytesPerSecond: report.megabytesPerSecond,
    tables: report.tables,
    structureTables: plan.structureTables,
    sanitized,
    fixes: report.fixes,
    ...(report.subset ? { subset: report.subset } : {}),
  };
}

interface Producer {
  stream: PassThrough;
  /** Settles when the producing program exits; rejects with a PULL_FAILED it explains. */
  done: Promise<void>;
}

function startProducer(
  produce: (out: Writable) => Promise<{ exitCode: number; stderr: string }>,
  plan: PullPlan,
): Producer {
  const stream = new PassThrough();
  const done = produce(stream).then((result) => {
    stream.end();
    if (result.exitCode !== 0) throw transportFailure(plan, result.exitCode, result.stderr);
  });
  // Awaited by the import at the right moment; never an unhandled rejection before that.
  done.catch(() => undefined);
  return { stream, done };
}

/** A failed transport or dump tool, in words where the cause is a known one. */
export function transportFailure(plan: PullPlan, exitCode: number, stderr: string): ProdlikeError {
  const tail = stderr.trim().split("\n").slice(-6).join("\n");
  const known: [RegExp, string][] = [
    [
      /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i,
      "The source's host key is not in your known_hosts (or changed). Check its fingerprint and add it (ssh to it once), or point pull.ssh.knownHosts at the file your team keeps.",
    ],
    [
      /Permission denied \(publickey/i,
      "ssh could not log in: load your key into the agent (ssh-add) or set pull.ssh.identityFile in prodlike.yaml.",
    ],
    [
      /Could not resolve hostname|Connection refused|Connection timed out|No route to host/i,
      "The source host could not be reached.",
    ],
    [
      /Connection (closed|reset)|Broken pipe|client_loop|Timeout, server/i,
      "The connection broke during the copy.",
    ],
    [
      /Access denied for user/i,
      "The source's database refused the login: set database.defaultsFile (e.g. ~/.my.cnf on the source) or database.passwordEnv for this source.",
    ],
    [
      /Unknown database/i,
      "The source has no database of that name (pull.sources.*.database.name).",
    ],
    [
      /neither (mariadb-dump|mysqldump|mariadb nor mysql)/,
      "The source has no MySQL/MariaDB client tools.",
    ],
    [
      /error: unable to upgrade connection|NotFound|Forbidden/i,
      "kubectl could not exec into the source pod.",
    ],
  ];
  const reason = known.find(([pattern]) => pattern.test(stderr))?.[1];
  return new ProdlikeError(
    "PULL_FAILED",
    `The pull from ${plan.source} failed (exit ${exitCode})`,
    {
      hint: `${reason ? `${reason}\n` : ""}${tail}\nThe live database was not changed.`,
    },
  );
}

/** Runs the sanitizing SQL on a database; steps for tables it lacks are skipped. */
export async function runSanitizeSql(
  db: LocalDatabase,
  database: string,
  steps: SanitizeStep[],
): Promise<void> {
  const present = new Set(
    (await db.query("SHOW TABLES", database)).split("\n").filter((name) => name.length > 0),
  );
  const script = sanitizeScript(steps, present);
  if (script.statements.length === 0) return;
  try {
    await db.query(script.statements.join("\n"), database);
  } catch (error) {
    throw sanitizeFailure(script, error) ?? error;
  }
}

async function drushSanitize(deps: PullDeps, progress: Progress): Promise<void> {
  await progress.run([
    {
      title: "drush sql:sanitize",
      run: async () => {
        const result = await deps.backend.execStream(deps.envId, {
          service: requireCli(deps),
          command: ["drush", "sql:sanitize", "--yes"],
        });
        if (result.exitCode !== 0) {
          throw new ProdlikeError("PULL_FAILED", "drush sql:sanitize failed", {
            hint: `${result.stderr.trim().split("\n").slice(-6).join("\n")}\nThe data is live, and sanitized by prodlike's SQL only.`,
          });
        }
      },
    },
  ]);
}

// sql:sync drops and refills the live database itself: a snapshot first, restored when
// the sync, the sanitizing or the user (Ctrl-C) stops it.
async function syncWithSnapshot(
  plan: Extract<PullPlan, { strategy: "drush-sync" }>,
  deps: PullDeps,
  progress: Progress,
  signal: AbortSignal,
): Promise<string> {
  // One such snapshot at most: an earlier pull's (kept when it failed) goes now.
  for (const old of await deps.snapshots.list()) {
    if (old.name.startsWith(AutomaticPrefix.pull) && !old.pinned) {
      await deps.snapshots.remove(old.name);
    }
  }
  const snapshot = await createSnapshot(
    deps.db,
    deps.snapshots,
    // Kept cold: most pulls succeed, and a failed one is put back from the stream.
    { name: `${AutomaticPrefix.pull}${defaultSnapshotName()}`, pinned: false, ready: 0 },
    progress,
  );
  try {
    await progress.run([
      {
        title: `${plan.command.join(" ")}`,
        run: async () => {
          const result = await deps.backend.execStream(deps.envId, {
            service: requireCli(deps),
            command: plan.command,
          });
          if (signal.aborted) throw new ProdlikeError("INTERRUPTED", "Pull interrupted");
          if (result.exitCode !== 0) {
            throw transportFailure(plan, result.exitCode, `${result.stdout}\n${result.stderr}`);
          }
        },
      },
      ...(plan.sanitizeSql.length
        ? [
            {
              title: "Sanitize the pulled data",
              run: async () => runSanitizeSql(deps.db, await deps.db.name(), plan.sanitizeSql),
            },
          ]
        : []),
    ]);
    if (plan.drushSanitize) await drushSanitize(deps, progress);
  } catch (error) {
    progress.warn(`Restoring the data from before the pull (snapshot ${snapshot.name})…`);
    await restoreSnapshot(deps.db, deps.snapshots, snapshot, deps.restartDb, progress);
    throw error;
  }
  // The pull went live: the safety copy has done its job and would only fill the disk.
  await deps.snapshots.remove(snapshot.name);
  return snapshot.name;
}

function requireCli(deps: PullDeps): string {
  if (!deps.cliService) {
    throw new ProdlikeError(
      "SERVICE_NOT_FOUND",
      `Environment ${deps.envId} has no cli service for drush`,
      {
        hint: "Pull without drush: configure pull.sources in prodlike.yaml and use --from NAME.",
      },
    );
  }
  return deps.cliService;
}
