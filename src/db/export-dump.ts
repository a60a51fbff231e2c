import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { printable } from "../errors/printable.js";
import { fromSystemError, ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { ByteMeter } from "./dump-load.js";
import type { LocalDatabase } from "./local-database.js";

// `db export`: a consistent dump (one transaction, no table locks) of the live database,
// gzip by default. A file is written under a temporary name and renamed when complete,
// so a failed export never leaves a half dump that looks whole.

export interface ExportTarget {
  /** A file path, or undefined for `out`. */
  file?: string | undefined;
  out?: Writable;
  gzip: boolean;
}

export interface ExportReport {
  database: string;
  file: string | undefined;
  gzip: boolean;
  bytes: number;
  durationMs: number;
}

export async function exportDump(
  db: LocalDatabase,
  target: ExportTarget,
  progress: Progress,
): Promise<ExportReport> {
  const database = await db.name();
  const started = Date.now();
  const meter = new ByteMeter();
  const partial = target.file ? `${target.file}.partial-${process.pid}` : undefined;
  const sink = partial ? createWriteStream(partial, { mode: 0o600 }) : target.out;
  if (!sink) throw new ProdlikeError("INTERNAL", "export has no target");
  // The dump goes in at `head`; the meter counts what reaches the target. A failing target
  // (a full disk, a closed pipe) fails the flow, which stops the dump in the container.
  const gzip = target.gzip ? createGzip({ level: 6 }) : undefined;
  const head = gzip ?? meter;
  const flow = gzip
    ? pipeline(gzip, meter, sink, { end: partial !== undefined })
    : pipeline(meter, sink, { end: partial !== undefined });
  // Seen at once, not only when awaited below: an unobserved rejection would crash.
  const flowFailure = flow.then(
    () => undefined,
    (error: unknown) => error,
  );

  try {
    await progress.run([
      {
        title: `Dump ${database}${target.file ? ` to ${target.file}` : ""}`,
        run: async (context) => {
          const timer = setInterval(() => context.update(meter.describe()), 250);
          try {
            const result = await db.dump(head);
            if (!head.destroyed) head.end();
            const failure = await flowFailure;
            if (failure) throw fromSystemError(failure) ?? failure;
            if (result.exitCode !== 0) {
              throw new ProdlikeError(
                "COMMAND_FAILED",
                `mariadb-dump failed (exit ${result.exitCode})`,
                {
                  hint: printable(result.stderr.split("\n").slice(-8).join("\n")),
                },
              );
            }
          } finally {
            clearInterval(timer);
          }
          context.setTitle(`Dumped ${database}: ${meter.describe()}`);
        },
      },
    ]);
    if (partial && target.file) await rename(partial, target.file);
  } catch (error) {
    head.destroy();
    if (partial) await rm(partial, { force: true });
    throw fromSystemError(error) ?? error;
  }
  return {
    database,
    file: target.file,
    gzip: target.gzip,
    bytes: meter.bytes,
    durationMs: Date.now() - started,
  };
}
