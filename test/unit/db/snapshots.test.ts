import { mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { pruneSnapshots, SnapshotStore } from "../../../src/db/snapshots.js";
import type { ProdlikeError } from "../../../src/errors/prodlike-error.js";

// The snapshot store on disk: a snapshot exists only once complete, with its size and
// sha256; a changed byte is refused; pruning keeps pinned ones.

async function store(): Promise<{ root: string; store: SnapshotStore }> {
  const root = await mkdtemp(path.join(os.tmpdir(), "prodlike-snapshots-"));
  return { root, store: new SnapshotStore(root, "shop-local") };
}

const bytes = (text: string) => async (out: NodeJS.WritableStream) => {
  out.write(Buffer.from(text));
};

describe("SnapshotStore", () => {
  it("writes the data 0600 with its size and sha256, and lists snapshots oldest first", async () => {
    const { root, store: snapshots } = await store();
    const first = await snapshots.write("first", false, bytes("hello"));
    expect(first).toMatchObject({
      name: "first",
      bytes: 5,
      sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
      pinned: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await snapshots.write("before-pull-1", true, bytes("x"));
    expect((await snapshots.list()).map((meta) => [meta.name, meta.automatic ?? false])).toEqual([
      ["first", false],
      ["before-pull-1", true],
    ]);
    expect(((await stat(snapshots.dataFile("first"))).mode & 0o777).toString(8)).toBe("600");
    expect(await readdir(path.join(root, "shop-local"))).toEqual(["before-pull-1", "first"]);
    expect((await snapshots.require(undefined)).name).toBe("before-pull-1");
  });

  it("leaves nothing when the data could not be written, and refuses bad or taken names", async () => {
    const { root, store: snapshots } = await store();
    const failed = await snapshots
      .write("broken", false, async () => {
        throw new Error("mariabackup died");
      })
      .catch((caught: unknown) => caught);
    expect((failed as Error).message).toBe("mariabackup died");
    expect(await readdir(path.join(root, "shop-local"))).toEqual([]);
    for (const name of ["../escape", "", "a b"]) {
      const error = (await snapshots
        .write(name, false, bytes("x"))
        .catch((caught: unknown) => caught)) as ProdlikeError;
      expect(error.code).toBe("USAGE");
    }
    await snapshots.write("taken", false, bytes("x"));
    const taken = (await snapshots
      .write("taken", false, bytes("y"))
      .catch((caught: unknown) => caught)) as ProdlikeError;
    expect(taken.message).toContain("already exists");
  });

  it("refuses data whose bytes changed since it was made, and names the snapshots it has", async () => {
    const { store: snapshots } = await store();
    const meta = await snapshots.write("s1", false, bytes("original"));
    await snapshots.verify(meta);
    await writeFile(snapshots.dataFile("s1"), "0riginal");
    const error = (await snapshots
      .verify(meta)
      .catch((caught: unknown) => caught)) as ProdlikeError;
    expect(error.code).toBe("SNAPSHOT_CORRUPT");
    const read = snapshots.readVerified(meta);
    read.stream.resume();
    await finished(read.stream);
    expect(() => read.check()).toThrow(/does not match its checksum/);
    const missing = (await snapshots
      .require("nope")
      .catch((caught: unknown) => caught)) as ProdlikeError;
    expect(missing.code).toBe("SNAPSHOT_NOT_FOUND");
    expect(missing.hint).toContain("s1");
  });

  it("prunes the oldest unpinned ones beyond N; removeAll leaves no folder", async () => {
    const { root, store: snapshots } = await store();
    for (const [name, pinned] of [
      ["a", true],
      ["b", false],
      ["c", false],
      ["d", false],
    ] as const) {
      await snapshots.write(name, pinned, bytes(name));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const removed = await pruneSnapshots(snapshots, 1);
    expect(removed.map((meta) => meta.name)).toEqual(["b", "c"]);
    expect((await snapshots.list()).map((meta) => meta.name)).toEqual(["a", "d"]);
    expect((await snapshots.removeAll()).sort()).toEqual(["a", "d"]);
    expect(await readdir(root)).toEqual([]);
  });
});
