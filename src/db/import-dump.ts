import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import {
  PassThrough,
  pipeline,
  type Readable,
  Transform,
  type TransformCallback,
} from "node:stream";
import { createGunzip } from "node:zlib";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import {
  DataShard,
  DUMP_HEADER,
  DumpTransform,
  describeFixes,
  IMPORT_PROLOGUE,
  SectionSplitter,
} from "./dump-transform.js";
import {
  dropProgramObjectsScript,
  LOAD_USER,
  type LocalDatabase,
  SCRATCH_INFIX,
  swapScript,
} from "./local-database.js";
import { recreateViewStatements } from "./views.js";

const PROLOGUE_LINES = IMPORT_PROLOGUE.split("\n").length - 1;

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
}

/** What a caller adds around the load: a pull checks its transport and sanitizes. */
export interface ImportHooks {
  /** Resolves when the source's producer ended well; throws its failure otherwise. */
  finished?: () => Promise<void>;
  /** Runs on the loaded staging database before it is switched in. */
  beforeSwitch?: { title: string; run: (stage: string) => Promise<void> };
  /** Switch in a dump that creates no table (`--allow-empty`); refused otherwise. */
  allowEmpty?: boolean;
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
  const stage = `${live.slice(0, 40)}${SCRATCH_INFIX}stage_${operation}`;
  const retired = `${live.slice(0, 40)}${SCRATCH_INFIX}retired_${operation}`;
  const started = Date.now();
  let meter = new ByteMeter();
  let fixer = new DumpTransform();
  let tables = 0;
  let connections = 1;

  // Every stream this import opens, so Ctrl-C (or a failed connection) stops them all.
  const opened = new Set<Readable>();
  const open = (): Readable => {
    const stream = source.open();
    opened.add(stream);
    return stream;
  };
  const stopAll = (error: Error) => {
    for (const stream of opened) stream.destroy(error);
  };
  const abort = () => stopAll(new ProdlikeError("INTERRUPTED", "Import interrupted"));
  signal?.addEventListener("abort", abort, { once: true });
  const checkComplete = () => {
    if (fixer.truncated) {
      throw new ProdlikeError(
        "IMPORT_FAILED",
        `${source.label} ends before its "-- Dump completed" line`,
        {
          hint: "The dump is truncated (an interrupted download or dump?). The live database was not changed.",
        },
      );
    }
    if (fixer.refused.length > 0) throw refusedError(source.label, fixer);
  };
  try {
    await progress.run([
      {
        title: `Prepare staging database ${stage}`,
        run: async (context) => {
          const { leftovers } = await db.prepareStaging(stage);
          if (leftovers.length > 0) {
            context.setTitle(
              `Prepared ${stage} (removed ${leftovers.join(", ")}, left by an interrupted operation)`,
            );
          }
        },
      },
      {
        title: `Load ${source.label}`,
        run: async (context) => {
          const timer = setInterval(() => context.update(meter.describe(source.totalBytes)), 250);
          const restore = await db.tuneForLoad();
          try {
            if (source.reopenable && (await isToolDump(source.open()))) {
              // A dump tool's output: its INSERT statements can be dealt out whole to
              // several connections once a first pass has made the tables.
              connections = LOAD_CONNECTIONS;
              fixer = new DumpTransform({ keepData: false });
              context.update("creating the tables");
              await loadInto(db, stage, open(), new ByteMeter(), fixer);
              checkComplete();
              const meters = Array.from({ length: connections }, () => new ByteMeter());
              meter = meters[0] ?? meter;
              await allOrStop(
                meters.map((shardMeter, index) =>
                  loadInto(db, stage, open(), shardMeter, new DataShard(index, connections)),
                ),
                stopAll,
              );
            } else if (source.sectioned) {
              connections = LOAD_CONNECTIONS;
              await loadSections(db, stage, open(), meter, fixer, connections, stopAll).catch(
                async (error: unknown) => {
                  await hooks.finished?.();
                  throw error;
                },
              );
              await hooks.finished?.();
              checkComplete();
            } else {
              // A producer's own failure (ssh cut off, a dump tool error) explains a
              // broken load better than the SQL error the cut-off text caused.
              await loadInto(db, stage, open(), meter, fixer).catch(async (error: unknown) => {
                await hooks.finished?.();
                throw error;
              });
              await hooks.finished?.();
              checkComplete();
            }
          } finally {
            clearInterval(timer);
            await restore().catch(() => undefined);
          }
          const over = connections > 1 ? ` over ${connections} connections` : "";
          context.setTitle(`Loaded ${source.label}${over}: ${meter.describe(source.totalBytes)}`);
        },
      },
      ...(hooks.beforeSwitch
        ? [
            {
              title: hooks.beforeSwitch.title,
              run: async () => {
                await hooks.beforeSwitch?.run(stage);
              },
            },
          ]
        : []),
      {
        title: `Switch ${live} to the imported data`,
        run: async () => {
          const staged = await db.contents(stage);
          tables = staged.tables;
          if (staged.tables === 0 && staged.views.length === 0 && !hooks.allowEmpty) {
            throw emptyError(source.label, fixer.shape.bytes, live);
          }
          // Views and triggers cannot move between databases with their tables: the old
          // ones go, the dump's own are created again once its tables are live (routines
          // first: a view may call one). The RENAME is atomic; it is prodlike's own SQL
          // and runs as root. The dump's objects follow as the application's user.
          await db.query(
            [
              dropProgramObjectsScript(live),
              swapScript(live, stage, retired),
              `DROP USER IF EXISTS ${LOAD_USER}@localhost;`,
              "",
            ].join("\n"),
          );
          const objects = [...fixer.deferred, ...recreateViewStatements(staged.views, stage, live)];
          if (objects.length > 0) {
            // The dump's own SET NAMES went with its tables; definitions are utf8mb4.
            await db.queryAsApplication(["SET NAMES utf8mb4;", ...objects, ""].join("\n"));
          }
        },
      },
    ]);
  } catch (error) {
    // The live database was never touched before the switch; only the staging copy goes.
    // The switch is one atomic RENAME: a retired database left by a failed one is empty.
    await db.dropStaging([stage, retired]).catch(() => undefined);
    throw error;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  const durationMs = Date.now() - started;
  return {
    database: live,
    source: source.label,
    bytes: meter.bytes,
    durationMs,
    megabytesPerSecond: meter.bytes / 1e6 / Math.max(durationMs / 1000, 0.001),
    tables,
    fixes: describeFixes(fixer.fixes),
    connections,
  };
}

// One pass over a sectioned stream: the schema loads on one connection, then the rows go
// to `connections` connections, each taking every n-th INSERT statement.
async function loadSections(
  db: LocalDatabase,
  stage: string,
  input: Readable,
  meter: ByteMeter,
  fixer: DumpTransform,
  connections: number,
  stop: (error: Error) => void,
): Promise<void> {
  const splitter = new SectionSplitter();
  let splitError: Error | undefined;
  pipeline(input, meter, splitter, (error) => {
    if (error) splitError = error;
  });
  const schemaLoad = loadInto(db, stage, splitter.schema, new ByteMeter(), fixer);
  splitter.release(schemaLoad);
  const rowLoads = Array.from({ length: connections }, (_, index) =>
    loadInto(db, stage, splitter.rows, new ByteMeter(), new DataShard(index, connections)),
  );
  await allOrStop([schemaLoad, ...rowLoads], stop);
  if (splitError instanceof ProdlikeError) throw splitError;
  if (splitError || splitter.truncated) {
    throw new ProdlikeError(
      "IMPORT_FAILED",
      'The pulled rows end before their "-- Dump completed" line',
      {
        hint: `${splitError?.message ?? "The stream was cut off."} The live database was not changed.`,
      },
    );
  }
}

// Runs loads side by side; the first failure stops the others' sources, then is thrown.
async function allOrStop(loads: Promise<void>[], stop: (error: Error) => void): Promise<void> {
  const results = await Promise.allSettled(
    loads.map((load) =>
      load.catch((error: unknown) => {
        stop(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }),
    ),
  );
  const failure = results.find((result) => result.status === "rejected");
  if (failure?.status === "rejected") throw failure.reason;
}

// Reads the start of a dump: does it carry a dump tool's header?
async function isToolDump(stream: Readable): Promise<boolean> {
  const head = stream.pipe(new MaybeGunzip());
  let text = "";
  try {
    for await (const chunk of head) {
      text += String(chunk);
      if (text.length > 4096) break;
    }
  } catch {
    return false;
  } finally {
    stream.destroy();
    head.destroy();
  }
  return text
    .split("\n")
    .slice(0, 5)
    .some((line) => DUMP_HEADER.test(line));
}

async function loadInto(
  db: LocalDatabase,
  stage: string,
  input: Readable,
  meter: ByteMeter,
  rewrite: Transform,
): Promise<void> {
  let streamError: Error | undefined;
  const sql = new PassThrough();
  pipeline(input, meter, new MaybeGunzip(), rewrite, sql, (error) => {
    if (error) streamError = error;
  });
  const result = await db.load(sql, stage);
  // The client stopped early: stop reading the source too (it would wait forever).
  if (result.exitCode !== 0 && !streamError) input.destroy();
  if (streamError instanceof ProdlikeError) throw streamError;
  if (streamError) {
    throw new ProdlikeError("IMPORT_FAILED", `Reading the dump failed: ${streamError.message}`, {
      hint: "A truncated or corrupt .gz file? The live database was not changed.",
    });
  }
  if (result.exitCode !== 0) {
    throw new ProdlikeError(
      "IMPORT_FAILED",
      `The dump did not load (mariadb exit ${result.exitCode})`,
      {
        hint: `${explainImportError(result.stderr)}\nThe live database was not changed.`,
      },
    );
  }
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
export function explainImportError(stderr: string): string {
  const tail = printable(stderr.trim().split("\n").slice(-5).join("\n"));
  if (/ERROR (1044|1142|1143|1370)\b.*denied/i.test(stderr)) {
    return `The dump reached beyond its own tables, and the server refused: an import runs as a user that can reach the staging database alone.\n${tail}`;
  }
  if (/ERROR 1227/.test(stderr)) {
    return `The dump needs privileges the local user lacks (often a DEFINER or SUPER-only statement).\n${tail}`;
  }
  if (/ERROR 1273|Unknown collation/i.test(stderr)) {
    return `The dump uses a collation this MariaDB does not know (MySQL 8's utf8mb4_0900_* are mapped; this one is another).\n${tail}`;
  }
  if (/ERROR 2026|SSL is required|TLS/i.test(stderr)) {
    return `The client asked for TLS the local server does not offer (MariaDB >= 11.4 clients do by default).\n${tail}`;
  }
  if (/sandbox mode/i.test(stderr)) {
    return `The dump's sandbox-mode line was not accepted by this client.\n${tail}`;
  }
  const syntax = /ERROR 1064 \(\w+\) at line (\d+)/.exec(stderr);
  if (syntax) {
    // The client counts the session settings prodlike sends first.
    const line = Number(syntax[1]) - PROLOGUE_LINES;
    return `SQL syntax error at line ${line} of the dump: it is broken, or from an incompatible server.\n${tail}`;
  }
  return tail || "The client printed nothing.";
}

/** Counts bytes passing through, for progress and MB/s. */
export class ByteMeter extends Transform {
  bytes = 0;
  private readonly started = Date.now();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }

  describe(total?: number): string {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = `${(this.bytes / 1e6 / seconds).toFixed(1)} MB/s`;
    const done = `${(this.bytes / 1e6).toFixed(1)} MB`;
    return total
      ? `${done} of ${(total / 1e6).toFixed(1)} MB (${Math.floor((100 * this.bytes) / total)}%, ${rate})`
      : `${done} (${rate})`;
  }
}

/** Gunzips when the stream starts with gzip's magic bytes, passes through otherwise. */
export class MaybeGunzip extends Transform {
  private gunzip: ReturnType<typeof createGunzip> | undefined;
  private decided = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.decided) {
      this.decided = true;
      if (chunk[0] === 0x1f && chunk[1] === 0x8b) {
        this.gunzip = createGunzip();
        this.gunzip.on("data", (data: Buffer) => this.push(data));
        this.gunzip.on("error", (error) => this.destroy(error));
      }
    }
    if (!this.gunzip) {
      done(null, chunk);
      return;
    }
    this.gunzip.write(chunk, (error) => done(error ?? null));
  }

  override _flush(done: TransformCallback): void {
    if (!this.gunzip) {
      done();
      return;
    }
    const gunzip = this.gunzip;
    gunzip.once("end", () => done());
    gunzip.end();
  }
}
