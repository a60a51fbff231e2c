import { Transform, type TransformCallback } from "node:stream";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { StatementGuard } from "./statement-guard.js";

// Rewrites a SQL dump on its way into the local MariaDB, line by line, so the known
// incompatibilities between production's dump tool and the local server never surface
// as raw SQL errors, and the load goes into the staging database whatever the dump says.

export interface DumpFixes {
  /** MariaDB >= 10.5.25 / 11.x dumps start with a sandbox-mode line older clients reject. */
  sandboxLine: number;
  /** DEFINER=`user`@`host` clauses (ERROR 1227 for a user that does not exist locally). */
  definers: number;
  /** MySQL 8 collations MariaDB does not know (utf8mb4_0900_*). */
  collations: number;
  /** `CREATE DATABASE` / `DROP DATABASE` / `USE` of the dump's own database: the load goes
   *  into the staging database instead. */
  databaseStatements: number;
  /** Server-level `SET` lines of MySQL dumps (GTID_PURGED, SQL_LOG_BIN) a database user
   *  may not run and a local copy does not need. */
  serverSettings: number;
}

/** A statement the guard kept from the server, by the dump's line number. */
export interface RefusedStatement {
  line: number;
  /** What it is, in words: "GRANT", "client command \\!", "names database `mysql`". */
  reason: string;
  /** The start of the statement, printable and short. */
  text: string;
}

export interface DumpShape {
  /** The dump says it came from mysqldump / mariadb-dump. */
  fromDumpTool: boolean;
  /** Its last comment says the dump completed (such dumps end with it). */
  completed: boolean;
  /** Bytes after decompression: 0 is an empty input, whatever its file size. */
  bytes: number;
}

// Session settings for a fast load: no per-row key checks. Statements still commit one
// by one: with the server tuned for the load (see ImportTuning) that measured faster
// than one huge transaction, whose undo log grows with the dump.
export const IMPORT_PROLOGUE = [
  "SET SESSION foreign_key_checks = 0;",
  "SET SESSION unique_checks = 0;",
  "",
].join("\n");
export const IMPORT_EPILOGUE = "\n";

const SANDBOX = /^\/\*M?!999999\\- enable the sandbox mode \*\/\s*$/;
// Only the clause itself: a version comment around it (`/*!50017 ... */`) stays valid.
const DEFINER = /\bDEFINER\s*=\s*(`[^`]*`|'[^']*'|\w+)@(`[^`]*`|'[^']*'|[\w.%-]+)/gi;
const MYSQL8_COLLATION = /utf8mb4_0900_(?:ai_ci|as_ci|as_cs|bin)/g;
export const DUMP_HEADER = /^-- (MySQL|MariaDB) dump \d/;

/** Separates a pulled stream's schema dump from its rows dump (see pull-plan.ts). */
export const ROWS_MARKER = "-- prodlike: rows follow";
// Triggers and routines belong to a database, not a table: RENAME TABLE cannot carry them
// from the staging database to the live one (ERROR 1435), so they are held back and
// created in the live database after the switch.
const DEFERRED_DROP = /^(\/\*!\d+\s+)?DROP (TRIGGER|PROCEDURE|FUNCTION)\b/i;
const ONE_LINE_TRIGGER = /^(\/\*!\d+\s+)?CREATE\b.*\bTRIGGER\b/i;
export const DUMP_TRAILER = /^-- Dump completed/;

/** The longest line read whole to be checked and rewritten (schema, settings, a trigger).
 *  A row statement streams through whatever its length; any other line past this is
 *  refused: the buffer a dump can make prodlike hold stays bounded. */
export const MAX_WHOLE_LINE_BYTES = 16 * 1024 * 1024;
/** How much of a line is read before it is decided whether it streams. */
const HEAD_BYTES = 4096;
const NEWLINE = 0x0a;
const SEMICOLON = 0x3b;

// Splits a stream into lines for a per-line rewrite. A dropped line becomes an empty
// one, so the client's "at line N" still points into the user's dump.
//
// Linear in the input whatever its line lengths: a chunk is searched for newlines once,
// never joined again with what came before it. A long line is judged by its first
// HEAD_BYTES; a row statement then goes through (or is dropped) chunk by chunk as it
// comes, anything else is collected whole up to MAX_WHOLE_LINE_BYTES.
abstract class LineTransform extends Transform {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** The current line is collected whole (its head said it does not stream). */
  private whole = false;
  /** The current line streams: kept or dropped, and its last non-blank byte so far. */
  private streaming: { keep: boolean; last: number } | undefined;
  private lineCount = 0;

  constructor(private readonly epilogue: string) {
    super();
    this.pushText(IMPORT_PROLOGUE);
  }

  protected abstract rewrite(line: string): string;
  /** Reading a long line's start: whether its bytes go on (it streams), or undefined to
   *  read it whole. Called once per long line. */
  protected abstract streamLine(head: string): boolean | undefined;
  /** A streamed line ended; `endsStatement`: its last non-blank character is `;`. */
  protected abstract streamedLineEnded(endsStatement: boolean): void;

  // Bytes are read as latin1, one character per byte: a dump is not always valid UTF-8
  // (BLOB rows, latin1 sites), and a multi-byte character split across two chunks must
  // not be decoded half. Everything rewritten is ASCII, so the bytes go out unchanged.
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      const piece = chunk.subarray(start, end);
      if (this.streaming) this.streamPiece(piece, newline !== -1);
      else {
        this.parts.push(piece);
        this.partsBytes += piece.length;
        if (newline !== -1) this.endWholeLine();
        else {
          const failure = this.decideLongLine();
          if (failure) {
            done(failure);
            return;
          }
        }
      }
      start = end + 1;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.streaming) {
      this.streamedLineEnded(this.streaming.last === SEMICOLON);
      this.streaming = undefined;
    } else if (this.partsBytes > 0) {
      this.lineCount++;
      this.pushText(this.rewrite(this.takeParts()));
    }
    this.pushText(this.epilogue);
    done();
  }

  private streamPiece(piece: Buffer, endsLine: boolean): void {
    const streaming = this.streaming;
    if (!streaming) return;
    streaming.last = lastNonBlank(piece) ?? streaming.last;
    if (streaming.keep && piece.length > 0) this.push(piece);
    if (!endsLine) return;
    this.push(Buffer.from("\n"));
    this.streamedLineEnded(streaming.last === SEMICOLON);
    this.streaming = undefined;
  }

  private endWholeLine(): void {
    this.lineCount++;
    this.whole = false;
    this.pushText(`${this.rewrite(this.takeParts())}\n`);
  }

  // A line without its end yet: past HEAD_BYTES it is decided once whether it streams.
  private decideLongLine(): Error | undefined {
    if (!this.whole && this.partsBytes >= HEAD_BYTES) {
      const collected = Buffer.concat(this.parts);
      const keep = this.streamLine(collected.subarray(0, HEAD_BYTES).toString("latin1"));
      if (keep === undefined) {
        this.whole = true;
        this.parts = [collected];
      } else {
        this.lineCount++;
        this.parts = [];
        this.partsBytes = 0;
        this.streaming = { keep, last: lastNonBlank(collected) ?? 0 };
        if (keep) this.push(collected);
      }
    }
    if (this.whole && this.partsBytes > MAX_WHOLE_LINE_BYTES) {
      return new ProdlikeError(
        "IMPORT_FAILED",
        `Line ${this.lineCount + 1} of the dump is longer than ${MAX_WHOLE_LINE_BYTES / 1024 / 1024} MB and is not a row statement (INSERT)`,
        {
          hint: "Is it a SQL dump? Binary or corrupt input has no line ends. Dump tools write schema statements short and rows as INSERT statements. The live database was not changed.",
        },
      );
    }
    return undefined;
  }

  private takeParts(): string {
    const text =
      this.parts.length === 1
        ? (this.parts[0]?.toString("latin1") ?? "")
        : Buffer.concat(this.parts).toString("latin1");
    this.parts = [];
    this.partsBytes = 0;
    return text;
  }

  private pushText(text: string): void {
    this.push(Buffer.from(text, "latin1"));
  }
}

/** The last byte of `bytes` that is not a space, tab or carriage return. */
function lastNonBlank(bytes: Buffer): number | undefined {
  for (let index = bytes.length - 1; index >= 0; index--) {
    const byte = bytes[index];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return byte;
  }
  return undefined;
}

/** Statements of the dump's header that set up a session (character set, time zone, modes). */
const SESSION_SETTING = /^(\/\*!\d+\s+)?SET\b/i;

export class DumpTransform extends LineTransform {
  readonly fixes: DumpFixes = {
    sandboxLine: 0,
    definers: 0,
    collations: 0,
    databaseStatements: 0,
    serverSettings: 0,
  };
  readonly shape: DumpShape = { fromDumpTool: false, completed: false, bytes: 0 };
  /** Trigger and routine definitions, to run against the live database after the switch. */
  readonly deferred: string[] = [];
  /** Statements kept from the server; the import fails before its switch when any are. */
  readonly refused: RefusedStatement[] = [];
  private readonly guard = new StatementGuard();
  private block: string[] | undefined;
  private inInsert = false;
  /** The next line starts a statement (the last one ended with `;`). */
  private atStatementStart = true;
  /** Inside a statement that is left out: its lines go too, up to its `;`. */
  private skipping = false;
  private lineNumber = 0;
  private lastLine = "";
  /** Where a first DROP DATABASE stood, should the dump never confirm it as its own. */
  private firstDrop: RefusedStatement | undefined;

  /** `keepData: false`: the schema pass of a parallel load (DataShards carry the rows). */
  constructor(private readonly options: { keepData: boolean } = { keepData: true }) {
    super(IMPORT_EPILOGUE);
  }

  protected rewrite(line: string): string {
    return this.fixLine(line);
  }

  // A long line: row statements stream (their head names the table, the rest is rows);
  // the rest is read whole.
  protected streamLine(head: string): boolean | undefined {
    if (!(this.inInsert || head.startsWith("INSERT INTO"))) return undefined;
    this.lineNumber++;
    this.lastLine = head;
    const keep = this.inInsert ? !this.skipping : this.judge(head, head.slice(0, 512));
    return keep && this.options.keepData;
  }

  protected streamedLineEnded(endsStatement: boolean): void {
    this.inInsert = !endsStatement;
    if (!this.inInsert) this.skipping = false;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, done: TransformCallback): void {
    this.shape.bytes += chunk.length;
    super._transform(chunk, encoding, done);
  }

  private fixLine(line: string): string {
    this.lineNumber++;
    if (line.trim() !== "") this.lastLine = line;
    if (this.lineNumber === 1 && SANDBOX.test(line)) {
      this.fixes.sandboxLine++;
      return "";
    }
    if (DUMP_HEADER.test(line)) this.shape.fromDumpTool = true;
    if (DUMP_TRAILER.test(line)) this.shape.completed = true;
    // Data lines are most of the bytes: leave them alone (and fast). Newer mariadb-dump
    // writes one row per line; a statement ends at the line ending in `;` (rows never
    // hold a raw newline: the dump escapes them). Only an INSERT's first line is judged.
    if (this.inInsert || line.startsWith("INSERT INTO")) {
      // The statement's head names its table; the rows after it can be megabytes.
      const keep = this.inInsert ? !this.skipping : this.judge(line, line.slice(0, 512));
      this.inInsert = !line.trimEnd().endsWith(";");
      if (!this.inInsert) this.skipping = false;
      return keep && this.options.keepData ? line : "";
    }
    if (!this.passesGuard(line)) return "";
    if (this.block) {
      this.block.push(this.fixDefinitions(line));
      if (/^DELIMITER ;\s*$/.test(line)) {
        this.deferred.push(this.block.join("\n"));
        this.block = undefined;
      }
      return "";
    }
    if (/^DELIMITER ;;\s*$/.test(line)) {
      this.block = [line];
      return "";
    }
    if (DEFERRED_DROP.test(line) || ONE_LINE_TRIGGER.test(line)) {
      this.deferred.push(this.fixDefinitions(line));
      return "";
    }
    return this.fixDefinitions(line);
  }

  // Follows statement boundaries and leaves out what the guard does not let through, with
  // the lines that continue it. False: the line goes no further.
  private passesGuard(line: string): boolean {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("--") || /^DELIMITER\b/i.test(trimmed)) {
      return !this.skipping;
    }
    const keep = this.skipping ? false : this.atStatementStart ? this.judge(line) : true;
    this.atStatementStart = trimmed.endsWith(";");
    if (this.atStatementStart) this.skipping = false;
    return keep;
  }

  // A line that starts a statement: true when it may go to the server.
  private judge(line: string, head = line): boolean {
    const verdict = this.guard.check(head);
    if (verdict.kind === "keep") return true;
    if (verdict.kind === "own-database") {
      this.fixes.databaseStatements++;
      if (/DROP\s+(DATABASE|SCHEMA)/i.test(head) && !this.firstDrop) {
        this.firstDrop = { line: this.lineNumber, reason: "", text: printable(line, 120) };
      }
    } else if (verdict.kind === "server-setting") this.fixes.serverSettings++;
    else {
      this.refused.push({
        line: this.lineNumber,
        reason: verdict.reason,
        text: printable(line, 120),
      });
    }
    this.skipping = !line.trimEnd().endsWith(";");
    return false;
  }

  private fixDefinitions(line: string): string {
    let fixed = line;
    if (fixed.includes("DEFINER")) {
      fixed = fixed.replace(DEFINER, () => {
        this.fixes.definers++;
        return "";
      });
    }
    if (fixed.includes("utf8mb4_0900_")) {
      fixed = fixed.replace(MYSQL8_COLLATION, () => {
        this.fixes.collations++;
        return "utf8mb4_unicode_ci";
      });
    }
    return fixed;
  }

  override _flush(done: TransformCallback): void {
    super._flush((error) => {
      const dropped = this.guard.unconfirmedDrop();
      if (dropped !== undefined && this.firstDrop) {
        this.fixes.databaseStatements--;
        this.refused.push({ ...this.firstDrop, reason: `drops database \`${dropped}\`` });
      }
      done(error);
    });
  }

  /** The dump ended early: a dump tool's output without its completion line. */
  get truncated(): boolean {
    return this.shape.fromDumpTool && !this.shape.completed && !DUMP_TRAILER.test(this.lastLine);
  }
}

export function describeFixes(fixes: DumpFixes): string[] {
  const notes: string[] = [];
  if (fixes.sandboxLine) notes.push("dropped the MariaDB sandbox-mode first line");
  if (fixes.definers) notes.push(`removed ${fixes.definers} DEFINER clause(s)`);
  if (fixes.collations)
    notes.push(`mapped ${fixes.collations} MySQL 8 collation(s) to utf8mb4_unicode_ci`);
  if (fixes.databaseStatements)
    notes.push(
      `ignored ${fixes.databaseStatements} CREATE/DROP DATABASE/USE line(s) of its own database`,
    );
  if (fixes.serverSettings)
    notes.push(`ignored ${fixes.serverSettings} replication setting(s) (GTID_PURGED, SQL_LOG_BIN)`);
  return notes;
}

// One of N connections of a parallel load: the dump's session settings and every Nth
// data line. Rows of one table go in side by side; the schema pass made the tables first.
export class DataShard extends LineTransform {
  private inserts = 0;
  private inInsert = false;
  private mine = false;
  private inBlock = false;

  constructor(
    private readonly index: number,
    private readonly count: number,
  ) {
    super(IMPORT_EPILOGUE);
  }

  protected rewrite(line: string): string {
    if (line.startsWith("INSERT INTO") && !this.inInsert) {
      this.mine = this.inserts++ % this.count === this.index;
      this.inInsert = true;
    }
    if (this.inInsert) {
      // A statement, one line or one row per line, goes whole to one connection.
      this.inInsert = !line.trimEnd().endsWith(";");
      return this.mine ? line : "";
    }
    // `SET` inside a trigger body is not a session setting.
    if (/^DELIMITER ;;\s*$/.test(line)) this.inBlock = true;
    else if (/^DELIMITER ;\s*$/.test(line)) this.inBlock = false;
    return !this.inBlock && SESSION_SETTING.test(line) ? line : "";
  }

  protected streamLine(head: string): boolean | undefined {
    if (head.startsWith("INSERT INTO") && !this.inInsert) {
      this.mine = this.inserts++ % this.count === this.index;
      this.inInsert = true;
    }
    return this.inInsert ? this.mine : undefined;
  }

  protected streamedLineEnded(endsStatement: boolean): void {
    this.inInsert = !endsStatement;
  }
}
