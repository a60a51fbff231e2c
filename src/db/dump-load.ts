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
import { DUMP_HEADER, type DumpTransform, IMPORT_PROLOGUE } from "./dump-transform.js";
import type { LocalDatabase } from "./local-database.js";
import { SectionSplitter } from "./sectioned-rows.js";

// How a dump's text reaches the server: over one connection or dealt out to several,
// gunzipped when it is gzip, metered on the way; a failed load explained in the dump's
// own line numbers.

const PROLOGUE_LINES = IMPORT_PROLOGUE.split("\n").length - 1;

// One pass over a sectioned stream: the schema loads on one connection, then the rows go
// to `connections` connections, each taking every n-th INSERT statement.
export async function loadSections(
  db: LocalDatabase,
  stage: string,
  input: Readable,
  meter: ByteMeter,
  fixer: DumpTransform,
  connections: number,
  stop: (error: Error) => void,
): Promise<void> {
  const splitter = new SectionSplitter(connections);
  let splitError: Error | undefined;
  pipeline(input, meter, splitter, (error) => {
    if (error) splitError = error;
  });
  const schemaLoad = loadInto(db, stage, splitter.schema, new ByteMeter(), fixer);
  splitter.release(schemaLoad);
  // The splitter dealt the statements out already: each connection's share goes as is.
  const rowLoads = splitter.rows.map((rows) =>
    loadInto(db, stage, rows, new ByteMeter(), new PassThrough()),
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
export async function allOrStop(
  loads: Promise<void>[],
  stop: (error: Error) => void,
): Promise<void> {
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
export async function isToolDump(stream: Readable): Promise<boolean> {
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

export async function loadInto(
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
