import { spawn } from "node:child_process";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { EnvironmentRecord } from "../../../env/environment-records.js";
import { ProdlikeError } from "../../../errors/prodlike-error.js";
import { readStateOrNothing } from "../../../state/json-state.js";
import type { SessionControl } from "../reachability.js";

// The session `up` leaves running for an environment on an existing cluster: a detached
// `prodlike connect --background` whose pid is kept in the state folder, its output in a
// log beside it. Stopped by pid, and only once /proc says that pid is still this
// environment's session (a pid the system handed to another program is left alone).

/** Printed by the session once its port-forwards listen. */
export const SESSION_READY = "prodlike-session-ready";
const READY_TIMEOUT_MS = 20_000;

const sessionSchema = z.object({
  pid: z.number().int().positive(),
  envId: z.string(),
  codeRoot: z.string(),
  name: z.string(),
});

type Session = z.infer<typeof sessionSchema>;

export class BackgroundSessions implements SessionControl {
  constructor(
    /** The state folder's sessions/ folder. */
    private readonly dir: string,
    /** How to run prodlike itself: node and the CLI's entry. */
    private readonly self: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(record: EnvironmentRecord): Promise<void> {
    await this.stop(record.id);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const logFile = this.file(record.id, "log");
    const log = await open(logFile, "w", 0o600);
    const [command = process.execPath, ...prefix] = this.self;
    const child = spawn(
      command,
      [
        ...prefix,
        "connect",
        "--background",
        "-C",
        record.codeRoot,
        "--name",
        record.name,
        "--backend",
        record.backend,
      ],
      { detached: true, stdio: ["ignore", log.fd, log.fd], env: this.env },
    );
    await log.close();
    child.unref();
    if (child.pid === undefined) throw sessionFailed(record.id, "it did not start");
    await writeFile(
      this.file(record.id, "json"),
      `${JSON.stringify({ pid: child.pid, envId: record.id, codeRoot: record.codeRoot, name: record.name })}\n`,
      { mode: 0o600 },
    );
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const output = await readFile(logFile, "utf8").catch(() => "");
      if (output.includes(SESSION_READY)) return;
      if (exited || Date.now() > deadline) {
        throw sessionFailed(record.id, output.trim().split("\n").slice(-5).join("\n"));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(envId: string): Promise<void> {
    const file = this.file(envId, "json");
    const session = await readStateOrNothing(file, sessionSchema);
    if (session && session.envId === envId && (await isSession(session))) {
      try {
        process.kill(session.pid, "SIGTERM");
      } catch {
        // Gone meanwhile.
      }
      for (let waited = 0; waited < 5_000 && (await isSession(session)); waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await rm(file, { force: true });
  }

  /** The session's log (what `prodlike connect` prints in the background). */
  logFile(envId: string): string {
    return this.file(envId, "log");
  }

  private file(envId: string, extension: string): string {
    return path.join(this.dir, `${envId}.${extension}`);
  }
}

// /proc/PID/cmdline of a live session: `connect --background` on this checkout and name.
async function isSession(session: Session): Promise<boolean> {
  const cmdline = await readFile(`/proc/${session.pid}/cmdline`, "utf8").catch(() => undefined);
  if (cmdline === undefined) return false;
  const args = cmdline.split("\u0000");
  return (
    args.includes("connect") &&
    args.includes("--background") &&
    args[args.indexOf("-C") + 1] === session.codeRoot &&
    args[args.indexOf("--name") + 1] === session.name
  );
}

function sessionFailed(envId: string, why: string): ProdlikeError {
  return new ProdlikeError("CLUSTER_FAILED", `The port-forwards of ${envId} did not start`, {
    hint: why || "Run `prodlike connect` to see why.",
  });
}
