import { chmod, mkdir, mkdtemp, readFile, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dashboardToken, TOKEN_FILE } from "../../../src/dashboard/token.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";

const fresh = () => mkdtemp(path.join(os.tmpdir(), "prodlike-token-"));

describe("the dashboard's token", () => {
  it("is made once, 0600, and read back the same", async () => {
    const dir = path.join(await fresh(), "state");
    const token = await dashboardToken(dir);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(path.join(dir, TOKEN_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await dashboardToken(dir)).toBe(token);
  });

  it("refuses a token file others can read, or one that is a link", async () => {
    const dir = await fresh();
    await writeFile(path.join(dir, TOKEN_FILE), `${"c".repeat(64)}\n`, { mode: 0o644 });
    await chmod(path.join(dir, TOKEN_FILE), 0o644);
    await expect(dashboardToken(dir)).rejects.toMatchObject({ code: "TOKEN_UNSAFE" });

    const linked = await fresh();
    await writeFile(path.join(linked, "elsewhere"), `${"d".repeat(64)}\n`, { mode: 0o600 });
    await symlink(path.join(linked, "elsewhere"), path.join(linked, TOKEN_FILE));
    await expect(dashboardToken(linked)).rejects.toBeInstanceOf(ProdlikeError);
  });

  it("refuses a state folder others can write to, and a file that holds no token", async () => {
    const open = path.join(await fresh(), "open");
    await mkdir(open, { mode: 0o777 });
    await chmod(open, 0o777);
    await expect(dashboardToken(open)).rejects.toMatchObject({ code: "TOKEN_UNSAFE" });

    const odd = await fresh();
    await writeFile(path.join(odd, TOKEN_FILE), "<script>\n", { mode: 0o600 });
    await expect(dashboardToken(odd)).rejects.toMatchObject({ code: "TOKEN_UNSAFE" });
    expect(await readFile(path.join(odd, TOKEN_FILE), "utf8")).toBe("<script>\n");
  });
});
