import { randomBytes } from "node:crypto";
import { lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";

// The dashboard's per-user token, like Jupyter's: made once, kept in a 0600 file in the
// user's 0700 state folder, printed in the URL. Another local user can reach 127.0.0.1
// too; only someone who can read this file can use the dashboard. A file that is not the
// user's own, or that others could read, is refused rather than trusted or rewritten.

export const TOKEN_FILE = "dashboard-token";

/** The token in `dir` (the user's state folder), made on first use. */
export async function dashboardToken(dir: string): Promise<string> {
  const file = path.join(dir, TOKEN_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await refuseForeign(dir, "directory");
  try {
    await writeFile(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  await refuseForeign(file, "file");
  const token = (await readFile(file, "utf8")).trim();
  if (!/^[0-9a-f]{64}$/.test(token)) {
    throw new ProdlikeError("TOKEN_UNSAFE", `${file} does not hold a dashboard token`, {
      hint: `Remove it; \`prodlike dashboard\` makes a new one.`,
    });
  }
  return token;
}

async function refuseForeign(target: string, kind: "file" | "directory"): Promise<void> {
  const info = await lstat(target);
  const uid = process.getuid?.();
  const own = uid === undefined || info.uid === uid;
  const right = kind === "file" ? info.isFile() : info.isDirectory();
  const shared = kind === "file" ? (info.mode & 0o077) !== 0 : (info.mode & 0o022) !== 0;
  if (!own || !right || shared) {
    throw new ProdlikeError(
      "TOKEN_UNSAFE",
      `${target} is not a ${kind} only you can ${kind === "file" ? "read" : "change"}`,
      {
        hint: `Another user may have planted it. Check it, remove it, and run \`prodlike dashboard\` again (it makes its own, mode ${kind === "file" ? "0600" : "0700"}).`,
      },
    );
  }
}
