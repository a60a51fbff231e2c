import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeCodeFile } from "../../../src/env/generated-files.js";

const generated = {
  path: "web/sites/default/settings.prodlike.php",
  content: "<?php // prodlike:generated v2\n",
  marker: "prodlike:generated",
  createOnly: false,
};

async function codeRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-code-"));
  await mkdir(path.join(dir, "web/sites/default"), { recursive: true });
  return dir;
}

describe("writeCodeFile", () => {
  it("creates a missing file, then leaves it unchanged", async () => {
    const root = await codeRoot();
    expect(await writeCodeFile(root, generated)).toBe("written");
    expect(await writeCodeFile(root, generated)).toBe("unchanged");
  });

  it("updates its own file (marker present)", async () => {
    const root = await codeRoot();
    await writeFile(path.join(root, generated.path), "<?php // prodlike:generated v1\n");
    expect(await writeCodeFile(root, generated)).toBe("written");
    expect(await readFile(path.join(root, generated.path), "utf8")).toBe(generated.content);
  });

  it("never overwrites a user's file (no marker)", async () => {
    const root = await codeRoot();
    await writeFile(path.join(root, generated.path), "<?php // mine\n");
    expect(await writeCodeFile(root, generated)).toBe("kept-user-file");
    expect(await readFile(path.join(root, generated.path), "utf8")).toBe("<?php // mine\n");
  });

  it("writes createOnly files only when missing", async () => {
    const root = await codeRoot();
    const settings = { ...generated, path: "web/sites/default/settings.php", createOnly: true };
    await writeFile(
      path.join(root, settings.path),
      "<?php // prodlike:generated but the user's now\n",
    );
    expect(await writeCodeFile(root, settings)).toBe("kept-user-file");
  });
});
