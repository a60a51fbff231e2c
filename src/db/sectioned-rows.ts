import { PassThrough, Writable } from "node:stream";
import { DUMP_TRAILER, IMPORT_EPILOGUE, IMPORT_PROLOGUE, ROWS_MARKER } from "./dump-transform.js";

// The rows of a pull dealt out to several connections in one pass over the bytes: each
// INSERT statement goes whole to the next connection in turn, the session settings (SET
// lines outside a trigger body) to every one, the rest (comments) nowhere. It works on
// the bytes as they came: a line is decoded only when it is short and not an INSERT, so
// hundreds of megabytes of rows are never turned into strings (which the CPU the server
// needs on a small machine would pay for). DataShard does the same per connection for a
// file, which each connection reads itself.

const INSERT = Buffer.from("INSERT INTO", "latin1");
const SESSION_SETTING = /^(\/\*!\d+\s+)?SET\b/i;
const NEWLINE = 0x0a;
const SEMICOLON = 0x3b;
const OUTPUT_BUFFER = 1024 * 1024;

type Target = number | "all" | "none";

export class StatementDealer {
  readonly outputs: PassThrough[];
  private next = 0;
  /** Inside an INSERT statement that spans lines: its lines follow it. */
  private inInsert = false;
  private insertTarget = 0;
  /** Between `DELIMITER ;;` and `DELIMITER ;`: a SET there is a trigger's, not a setting. */
  private inBlock = false;
  /** Where the current line goes; undefined while it is too short to tell. */
  private target: Target | undefined;
  /** The start of a line not yet classified (it straddled a chunk's end). */
  private held: Buffer[] = [];
  /** The last byte of the current line that is not white space (0: none yet). */
  private lastByte = 0;
  /** The bytes of the chunk being dealt that go on to one target, written as one piece:
   *  a dump has a row per line, and a write per line would cost more than the rows. */
  private run: { target: Target; start: number; end: number } | undefined;
  private full = new Set<PassThrough>();

  constructor(connections: number) {
    this.outputs = Array.from({ length: connections }, () => {
      const output = new PassThrough({ highWaterMark: OUTPUT_BUFFER });
      output.write(Buffer.from(IMPORT_PROLOGUE, "latin1"));
      return output;
    });
  }

  /** Deals a chunk out; `done` once every output it wrote to can take more. */
  write(chunk: Buffer, done: () => void): void {
    this.full = new Set();
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, at);
      const end = newline < 0 ? chunk.length : newline + 1;
      this.take(chunk, at, end, newline >= 0);
      at = end;
    }
    this.flush(chunk);
    const full = [...this.full];
    if (full.length === 0) {
      done();
      return;
    }
    let waiting = full.length;
    for (const output of full) {
      output.once("drain", () => {
        waiting -= 1;
        if (waiting === 0) done();
      });
    }
  }

  /** Ends every output (a last line without its newline is dealt first). */
  end(): void {
    if (this.held.length > 0) {
      const start = Buffer.concat(this.held);
      this.held = [];
      const target = this.classify(start, true) ?? "none";
      this.sendTo(target, start);
    }
    for (const output of this.outputs) output.end(Buffer.from(IMPORT_EPILOGUE, "latin1"));
  }

  destroy(error: Error): void {
    for (const output of this.outputs) output.destroy(error);
  }

  // The bytes [from, to) of one line in `chunk`: all of it, its start or its rest;
  // `complete` when they end the line.
  private take(chunk: Buffer, from: number, to: number, complete: boolean): void {
    this.trackLastByte(chunk, from, to);
    if (this.target === undefined) {
      if (this.held.length > 0 || (!complete && to - from < INSERT.length && !this.inInsert)) {
        // Too little of the line to tell where it goes: kept (a copy) until there is.
        this.held.push(Buffer.from(chunk.subarray(from, to)));
        const start = Buffer.concat(this.held);
        const target = this.classify(start, complete);
        if (target === undefined) return;
        this.held = [];
        this.target = target;
        this.flush(chunk);
        this.sendTo(target, start);
      } else {
        const target = this.classify(chunk.subarray(from, to), complete);
        if (target === undefined) {
          this.held.push(Buffer.from(chunk.subarray(from, to)));
          return;
        }
        this.target = target;
        this.extend(chunk, from, to);
      }
    } else {
      this.extend(chunk, from, to);
    }
    if (complete) {
      // A statement ends with the line whose last non-space byte is `;`.
      if (this.inInsert) this.inInsert = this.lastByte !== SEMICOLON;
      this.target = undefined;
      this.lastByte = 0;
    }
  }

  private classify(start: Buffer, complete: boolean): Target | undefined {
    if (this.inInsert) return this.insertTarget;
    if (start.length >= INSERT.length && start.subarray(0, INSERT.length).equals(INSERT)) {
      this.inInsert = true;
      this.insertTarget = this.next;
      this.next = (this.next + 1) % this.outputs.length;
      return this.insertTarget;
    }
    // Not an INSERT: a short line (a setting, a comment), decided once it is whole.
    if (!complete) return undefined;
    const line = start.toString("latin1");
    if (/^DELIMITER ;;\s*$/.test(line)) this.inBlock = true;
    else if (/^DELIMITER ;\s*$/.test(line)) this.inBlock = false;
    return !this.inBlock && SESSION_SETTING.test(line) ? "all" : "none";
  }

  /** Adds [from, to) of the chunk to the current run, or starts a new one. */
  private extend(chunk: Buffer, from: number, to: number): void {
    const target = this.target ?? "none";
    if (this.run && this.run.target === target && this.run.end === from) {
      this.run.end = to;
      return;
    }
    this.flush(chunk);
    this.run = { target, start: from, end: to };
  }

  private flush(chunk: Buffer): void {
    if (!this.run) return;
    const { target, start, end } = this.run;
    this.run = undefined;
    this.sendTo(target, chunk.subarray(start, end));
  }

  private sendTo(target: Target, bytes: Buffer): void {
    if (target === "none" || bytes.length === 0) return;
    const outputs = target === "all" ? this.outputs : [this.outputs[target]];
    for (const output of outputs) {
      if (output && !output.write(bytes)) this.full.add(output);
    }
  }

  private trackLastByte(chunk: Buffer, from: number, to: number): void {
    for (let index = to - 1; index >= from; index -= 1) {
      const byte = chunk[index] ?? 0;
      if (byte !== NEWLINE && byte !== 0x0d && byte !== 0x20 && byte !== 0x09) {
        this.lastByte = byte;
        return;
      }
    }
  }
}

const TAIL_BYTES = 4096;

export class SectionSplitter extends Writable {
  readonly schema = new PassThrough();
  private readonly dealer: StatementDealer;
  private inRows = false;
  private pending = "";
  /** The end of the rows seen so far: enough to find the last line. */
  private tail = "";
  private released: Promise<void> = Promise.resolve();

  constructor(connections = 1) {
    super();
    this.dealer = new StatementDealer(connections);
  }

  /** The rows for each connection: the session settings, then its share of the INSERTs. */
  get rows(): readonly PassThrough[] {
    return this.dealer.outputs;
  }

  /** Rows wait for this (the schema loaded); its failure stops the split. */
  release(schemaLoaded: Promise<void>): void {
    this.released = schemaLoaded;
  }

  /** The rows dump did not end with its "-- Dump completed" line. */
  get truncated(): boolean {
    const last =
      this.tail
        .split("\n")
        .filter((line) => line.trim() !== "")
        .pop() ?? "";
    return !DUMP_TRAILER.test(last);
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    if (this.inRows) {
      this.track(chunk);
      this.dealer.write(chunk, done);
      return;
    }
    const text = this.pending + chunk.toString("latin1");
    const at = text.indexOf(`\n${ROWS_MARKER}\n`);
    if (at < 0) {
      // Keep a marker's length back: it may straddle two chunks.
      const keep = Math.max(0, text.length - ROWS_MARKER.length - 2);
      this.pending = text.slice(keep);
      this.send(this.schema, Buffer.from(text.slice(0, keep), "latin1"), done);
      return;
    }
    this.inRows = true;
    this.pending = "";
    this.schema.end(Buffer.from(text.slice(0, at + 1), "latin1"));
    const rest = Buffer.from(text.slice(at + ROWS_MARKER.length + 2), "latin1");
    this.released.then(
      () => {
        this.track(rest);
        this.dealer.write(rest, done);
      },
      (error: Error) => done(error),
    );
  }

  override _final(done: (error?: Error | null) => void): void {
    if (!this.inRows) this.schema.end(Buffer.from(this.pending, "latin1"));
    this.dealer.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (error) {
      this.schema.destroy(error);
      this.dealer.destroy(error);
    }
    done(error);
  }

  private send(to: PassThrough, chunk: Buffer, done: () => void): void {
    if (to.write(chunk)) done();
    else to.once("drain", done);
  }

  // Only the chunk's end is decoded: the rows themselves never become strings here.
  private track(chunk: Buffer): void {
    const end = chunk.subarray(Math.max(0, chunk.length - TAIL_BYTES));
    this.tail = (this.tail + end.toString("latin1")).slice(-TAIL_BYTES);
  }
}
