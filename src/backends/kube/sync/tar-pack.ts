import { lstat, readFile, readlink } from "node:fs/promises";
import path from "node:path";

// A POSIX tar (ustar, with a pax header for long names) of chosen paths of a folder, as
// `tar -x` in a pod and Docker's ADD read it: regular files, symlinks and folders, with
// their mode and modification time, owned by the given uid:gid.

const BLOCK = 512;

export interface TarOwner {
  uid: number;
  gid: number;
}

/** The archive of `entries` (relative paths; a trailing `/` is a folder) under `root`.
 *  Entries that vanished meanwhile are skipped: the next batch deletes them. */
export async function packTar(
  root: string,
  entries: readonly string[],
  owner: TarOwner,
  write: (chunk: Buffer) => void | Promise<void>,
): Promise<number> {
  let written = 0;
  const emit = async (chunk: Buffer) => {
    written += chunk.length;
    await write(chunk);
  };
  for (const entry of entries) {
    const relative = entry.replace(/\/$/, "");
    const full = path.join(root, relative);
    const stat = await lstat(full).catch(() => undefined);
    if (!stat) continue;
    const mtime = Math.floor(stat.mtimeMs / 1000);
    const mode = stat.mode & 0o7777;
    if (stat.isDirectory()) {
      for (const block of header(`${relative}/`, { type: "5", size: 0, mode, mtime, owner }))
        await emit(block);
    } else if (stat.isSymbolicLink()) {
      const target = await readlink(full);
      for (const block of header(relative, { type: "2", size: 0, mode, mtime, owner, target }))
        await emit(block);
    } else if (stat.isFile()) {
      const content = await readFile(full).catch(() => undefined);
      if (!content) continue;
      for (const block of header(relative, { type: "0", size: content.length, mode, mtime, owner }))
        await emit(block);
      await emit(content);
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad) await emit(Buffer.alloc(pad));
    }
  }
  await emit(Buffer.alloc(BLOCK * 2));
  return written;
}

interface HeaderFields {
  type: "0" | "2" | "5";
  size: number;
  mode: number;
  mtime: number;
  owner: TarOwner;
  target?: string | undefined;
}

/** The header block(s) of one entry: a pax header first when a name does not fit. */
export function header(name: string, fields: HeaderFields): Buffer[] {
  const blocks: Buffer[] = [];
  const longName = Buffer.byteLength(name) > 100;
  const longTarget = fields.target !== undefined && Buffer.byteLength(fields.target) > 100;
  if (longName || longTarget) {
    const records = [
      ...(longName ? [paxRecord("path", name)] : []),
      ...(longTarget && fields.target ? [paxRecord("linkpath", fields.target)] : []),
    ].join("");
    const body = Buffer.from(records, "utf8");
    blocks.push(
      ustar("././@PaxHeader", { ...fields, type: "x", size: body.length, target: undefined }),
    );
    blocks.push(Buffer.concat([body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)]));
  }
  blocks.push(
    ustar(longName ? name.slice(-100) : name, {
      ...fields,
      target: longTarget ? "" : fields.target,
    }),
  );
  return blocks;
}

// A pax record is "LENGTH KEY=VALUE\n", LENGTH counting itself.
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length += 1;
  return `${length}${rest}`;
}

function ustar(
  name: string,
  fields: Omit<HeaderFields, "type"> & { type: HeaderFields["type"] | "x" },
): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  octal(block, fields.mode, 100, 8);
  octal(block, fields.owner.uid, 108, 8);
  octal(block, fields.owner.gid, 116, 8);
  octal(block, fields.size, 124, 12);
  octal(block, fields.mtime, 136, 12);
  block.fill(" ", 148, 156);
  block.write(fields.type, 156, 1, "ascii");
  if (fields.target) block.write(fields.target, 157, 100, "utf8");
  block.write("ustar\u000000", 257, 8, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return block;
}

function octal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "ascii");
}
