import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { config, safeParse } from "zod/mini";
import type { $ZodType } from "zod/v4/core";
import en from "zod/v4/locales/en.js";
import { ProdlikeError } from "../errors/prodlike-error.js";

// The JSON files prodlike keeps (environment records, lifetimes, data origins, snapshot
// and release records, caches) read back through their schema: a file cut short, edited
// by hand or written by another prodlike version is told apart from a missing one and
// from a good one, so nothing downstream works on a shape it was not given. What a
// damaged file means is each store's to say (a cache is rebuilt, a record is an error).

// The schemas of state files are zod/mini's: bundled, it keeps only what they use, where
// classic zod's ~450 KB took a tenth of `status`'s start. Mini carries no messages of its
// own; the English ones classic zod sets are set here too, so a reason reads the same.
config(en());

/** A schema of either zod flavour (classic and mini share this core type). */
export type StateSchema<T> = $ZodType<T>;

/** The schema's verdict on a value, without zod's compiled fast path: each schema parses
 *  once or twice in a command's life, and compiling it (new Function) costs more. */
export function parseState<T>(schema: StateSchema<T>, value: unknown) {
  return safeParse(schema, value, { jitless: true });
}

/** A schema built on first use (memoised): building one costs ~0.2 ms, and a short
 *  command such as `status` reads only a few of the files whose schemas it loads. */
export function lazySchema<S extends StateSchema<unknown>>(build: () => S): () => S {
  let built: S | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

export type StateRead<T> =
  | { kind: "missing" }
  | { kind: "ok"; value: T }
  | { kind: "invalid"; file: string; reason: string };

export async function readState<T>(file: string, schema: StateSchema<T>): Promise<StateRead<T>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    return { kind: "invalid", file, reason: (error as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { kind: "invalid", file, reason: `not JSON (${(error as Error).message})` };
  }
  const result = parseState(schema, parsed);
  if (result.success) return { kind: "ok", value: result.data };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") : "the top level";
  return { kind: "invalid", file, reason: `${where}: ${issue?.message ?? "unexpected shape"}` };
}

/** The value when the file is good; undefined when it is missing or damaged (a cache, or
 *  a record whose loss costs only what it said). */
export async function readStateOrNothing<T>(
  file: string,
  schema: StateSchema<T>,
): Promise<T | undefined> {
  const read = await readState(file, schema);
  return read.kind === "ok" ? read.value : undefined;
}

/** The one error for a damaged record prodlike cannot work without. */
export function damagedState(
  read: Extract<StateRead<unknown>, { kind: "invalid" }>,
  what: string,
  hint: string,
): ProdlikeError {
  return new ProdlikeError("STATE_INVALID", `${what} is damaged: ${read.file} (${read.reason})`, {
    hint,
    data: { file: read.file },
  });
}

/** Writes a record only its user reads (0600, in a 0700 folder made when missing), aside
 *  and renamed: a reader never sees half of it, and two writers never mix theirs. */
export async function writeState(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, file);
}
