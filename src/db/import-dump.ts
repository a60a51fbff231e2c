import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Readable } from "node:stream";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress, Step } from "../ui/steps.js";
import { allOrStop, ByteMeter, isToolDump, loadInto, loadSections } from "./dump-load.js";
import { DataShard, DumpTransform, describeFixes } from "./dump-transform.js";
import {
  dropProgramObjectsScript,
  LOAD_USER,
  type LocalDatabase,
  SCRATCH_INFIX,
  swapScript,
} from "./local-database.js";
import type { SanitizeStep } from "./pull-plan.js";
import { sanitizeFailure, sanitizeScript, scriptLines } from "./sanitize-sql.js";
import { cutToSubset, type SubsetReport, type SubsetRequest } from "./subset-cut.js";
import { recreateViewStatements } from "./views.js";

// `db import`: a dump streamed into a fresh staging database, switched in only when it
// loaded completely. A broken, truncated or interrupted import leaves the live database
// as it was, and a successful one leaves no table of the old data behind (a plain load
// would keep tables the dump does not mention).

export interface ImportSource {
  /** Opens the dump from its start; called once per pass when `reopenable`. */
  open(): Readable;
  /** A file can be read several times (schema pass, then one reader per connection). */
  reopenable: boolean;
  /** A schema dump, ROWS_MARKER, then a rows-only dump (a pull): read once, the rows
   *  dealt out to several connections once the tables exist. */
  sectioned?: boolean;
  /** For the progress display; undefined for stdin. */
  totalBytes?: number | undefined;
  label: string;
}

export interface ImportReport {
  database: string;
  source: string;
  /** Bytes read from the source (compressed size for .gz). */
  bytes: number;
  durationMs: number;
  megabytesPerSecond: number;
  tables: number;
  fixes: string[];
  /** Connections the rows went in over (1 for stdin and hand-written SQL). */
  connections: number;
  /** `db pull --subset`: how the slice was cut. */
  subset?: SubsetReport;
}

/** What a caller adds around the load: a pull checks its transport and sanitizes. */
export interface ImportHooks {
  /** Resolves when the source's producer ended well; throws its failure otherwise. */
  finished?: () => Promise<void>;
  /** Sanitizing SQL, run on the loaded staging database in the switch's own client run,
   *  before its RENAME: a failing step leaves the live data as it was. */
  sanitize?: SanitizeStep[];
  /** Switch in a dump that creates no table (`--allow-empty`); refused otherwise. */
  allowEmpty?: boolean;
  /** `db pull --subset`: the staging copy cut to a consistent slice before it is
   *  sanitized and switched in. */
  subset?: SubsetRequest;
}

/** Parallel connections for the rows: the server inserts on as many cores. */
export const LOAD_CONNECTIONS = Math.min(4, Math.max(2, availableParallelism()));

export async function importDump(
  db: LocalDatabase,
  source: ImportSource,
  progress: Progress,
  signal?: AbortSignal,
  hooks: ImportHooks = {},
): Promise<ImportReport> {
  const live = await db.name();
  // Names of this operation alone: a killed one's leftovers can never be taken for them.
  const operation = randomBytes(3).toString("hex");
  const run: ImportRun = {
    db,
    source,
    hooks,
    live,
    stage: `${live.slice(0, 40)}${SCRATCH_INFIX}stage_${operation}`,
    retired: `${live.slice(0, 40)}${SCRATCH_INFIX}retired_${operation}`,
    meter: new ByteMeter(),
    fixer: new DumpTransform(),
    tables: 0,
    connections: 1,
    opened: new Set(),
  };
  const started = Date.now();
  const abort = () => stopAll(run, new ProdlikeError("INTERRUPTED", "Import interrupted"));
  signal?.addEventListener("abort", abort, { once: true });
  try {
    await progress.run([
      {
        title: `Prepare staging database ${run.stage}`,
        run: async (context) => {
          // Set before: a run cut off after it lowered the settings still puts them back.
          run.settings = { restore: () => db.restoreLoadSettings() };
          const { leftovers } = await db.prepareStaging(run.stage);
          if (leftovers.length > 0) {
            context.setTitle(
              `Prepared ${run.stage} (removed ${leftovers.join(", ")}, left by an interrupted operation)`,
            );
          }
        },
      },
      loadStep(run),
      switchStep(run),
    ]);
  } catch (error) {
    // The live database was never touched before the switch; only the staging copy goes.
    // The switch is one atomic RENAME: a retired database left by a failed one is empty.
    await db.dropStaging([run.stage, run.retired]).catch(() => undefined);
    throw error;
  } finally {
    signal?.removeEventListener("abort", abort);
    await restoreSettings(run);
  }
  const durationMs = Date.now() - started;
  return {
    database: live,
    source: source.label,
    bytes: run.meter.bytes,
    durationMs,
    megabytesPerSecond: run.meter.bytes / 1e6 / Math.max(durationMs / 1000, 0.001),
    tables: run.tables,
    fixes: describeFixes(run.fixer.fixes),
    connections: run.connections,
    ...(run.subset ? { subset: run.subset } : {}),
  };
}

/** One import's state, shared by its steps. */
interface ImportRun {
  db: LocalDatabase;
  source: ImportSource;
  hooks: ImportHooks;
  live: string;
  stage: string;
  retired: string;
  /** Counts the rows' bytes (the first connection's, when several load). */
  meter: ByteMeter;
  /** Reads the statements: what it fixed, refused, deferred, and whether the dump ended. */
  fixer: DumpTransform;
  tables: number;
  connections: number;
  /** Every stream this import opened, so Ctrl-C (or a failed connection) stops them all. */
  opened: Set<Readable>;
  /** The server's own settings, lowered for the load: `restore` puts them back once. */
  settings?: { restore: () => Promise<void>; restoring?: Promise<void> };
  subset?: SubsetReport;
}

// Started as soon as the load ends, so it runs while the switch does; awaited (or started,
// when the load never ran) before the import returns or throws.
function restoreSettings(run: ImportRun): Promise<void> {
  const { settings } = run;
  if (!settings) return Promise.resolve();
  settings.restoring ??= settings.restore().catch(() => undefined);
  return settings.restoring;
}

function openSource(run: ImportRun): Readable {
  const stream = run.source.open();
  run.opened.add(stream);
  return stream;
}

function stopAll(run: ImportRun, error: Error): void {
  for (const stream of run.opened) stream.destroy(error);
}

function checkComplete(run: ImportRun): void {
  if (run.fixer.truncated) {
    throw new ProdlikeError(
      "IMPORT_FAILED",
      `${run.source.label} ends before its "-- Dump completed" line`,
      {
        hint: "The dump is truncated (an interrupted download or dump?). The live database was not changed.",
      },
    );
  }
  if (run.fixer.refused.length > 0) throw refusedError(run.source.label, run.fixer);
}

function loadStep(run: ImportRun): Step {
  const { db, source } = run;
  return {
    title: `Load ${source.label}`,
    run: async (context) => {
      const timer = setInterval(() => context.update(run.meter.describe(source.totalBytes)), 250);
      try {
        if (source.reopenable && (await isToolDump(source.open()))) {
          await loadToolDump(run, () => context.update("creating the tables"));
        } else {
          // A producer's own failure (ssh cut off, a dump tool error) explains a broken
          // load better than the SQL error the cut-off text caused.
          const load = source.sectioned
            ? loadSections(
                db,
                run.stage,
                openSource(run),
                run.meter,
                run.fixer,
                LOAD_CONNECTIONS,
                (error) => stopAll(run, error),
              )
            : loadInto(db, run.stage, openSource(run), run.meter, run.fixer);
          if (source.sectioned) run.connections = LOAD_CONNECTIONS;
          await load.catch(async (error: unknown) => {
            await run.hooks.finished?.();
            throw error;
          });
          await run.hooks.finished?.();
          checkComplete(run);
        }
      } finally {
        clearInterval(timer);
        void restoreSettings(run);
      }
      const over = run.connections > 1 ? ` over ${run.connections} connections` : "";
      context.setTitle(`Loaded ${source.label}${over}: ${run.meter.describe(source.totalBytes)}`);
    },
  };
}

// A dump tool's output: a first pass makes the tables, then its INSERT statements are
// dealt out whole to several connections.
async function loadToolDump(run: ImportRun, onSchema: () => void): Promise<void> {
  run.connections = LOAD_CONNECTIONS;
  run.fixer = new DumpTransform({ keepData: false });
  onSchema();
  await loadInto(run.db, run.stage, openSource(run), new ByteMeter(), run.fixer);
  checkComplete(run);
  const meters = Array.from({ length: run.connections }, () => new ByteMeter());
  run.meter = meters[0] ?? run.meter;
  await allOrStop(
    meters.map((shardMeter, index) =>
      loadInto(
        run.db,
        run.stage,
        openSource(run),
        shardMeter,
        new DataShard(index, run.connections),
      ),
    ),
    (error) => stopAll(run, error),
  );
}

function switchStep(run: ImportRun): Step {
  const { db, live, stage } = run;
  const steps = run.hooks.sanitize ?? [];
  return {
    title:
      steps.length > 0
        ? `Sanitize the imported data and switch ${live} to it`
        : `Switch ${live} to the imported data`,
    run: async () => {
      const staged = await db.contents(stage);
      run.tables = staged.tables;
      if (staged.tables === 0 && staged.views.length === 0 && !run.hooks.allowEmpty) {
        throw emptyError(run.source.label, run.fixer.shape.bytes, live);
      }
      if (run.hooks.subset) run.subset = await cutToSubset(db, stage, run.hooks.subset);
      // Sanitizing first, on the staging copy, in the same client run: the client stops
      // at the first error, so a failed step never reaches the RENAME. Views and triggers
      // cannot move between databases with their tables: the old ones go, the dump's own
      // are created again once its tables are live (routines first: a view may call one).
      // The RENAME is atomic; it is prodlike's own SQL and runs as root. The dump's objects
      // follow as the application's user.
      const sanitize = sanitizeScript(steps, new Set(staged.tableNames));
      const prologue = [`USE \`${stage}\`;`];
      try {
        await db.query(
          [
            ...prologue,
            ...sanitize.statements,
            dropProgramObjectsScript(live),
            swapScript(live, stage, run.retired),
            `DROP USER IF EXISTS ${LOAD_USER}@localhost;`,
            "",
          ].join("\n"),
        );
      } catch (error) {
        throw sanitizeFailure(sanitize, error, scriptLines(prologue)) ?? error;
      }
      const objects = [...run.fixer.deferred, ...recreateViewStatements(staged.views, stage, live)];
      if (objects.length > 0) {
        // The dump's own SET NAMES went with its tables; definitions are utf8mb4.
        await db.queryAsApplication(["SET NAMES utf8mb4;", ...objects, ""].join("\n"));
      }
    },
  };
}

function refusedError(label: string, fixer: DumpTransform): ProdlikeError {
  const shown = [...fixer.refused].sort((a, b) => a.line - b.line).slice(0, 10);
  const more = fixer.refused.length - shown.length;
  return new ProdlikeError(
    "IMPORT_REFUSED",
    `${label} holds ${fixer.refused.length} statement(s) an import never runs`,
    {
      hint: [
        ...shown.map(
          (statement) => `line ${statement.line}: ${statement.reason}: ${statement.text}`,
        ),
        ...(more > 0 ? [`… and ${more} more`] : []),
        "A dump of one database (`mysqldump DBNAME`, `drush sql:dump`) has none of these: accounts, grants, other databases and client commands are not data. The live database was not changed.",
      ].join("\n"),
      data: { refused: fixer.refused },
    },
  );
}

function emptyError(label: string, bytes: number, live: string): ProdlikeError {
  const what = bytes === 0 ? "is empty (0 bytes)" : "creates no table";
  return new ProdlikeError("IMPORT_EMPTY", `${label} ${what}: nothing was imported`, {
    hint: `The live database ${live} was not changed. An empty input is what a failed producer gives (\`ssh prod mysqldump … | prodlike db import -\` whose ssh failed). To replace the data with an empty database on purpose, pass --allow-empty.`,
  });
}

// Known failures, said in words; anything else shows the client's own last lines.
