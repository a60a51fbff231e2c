import {
  type CommandRunner,
  OUTPUT_TAIL_CHARS,
  type RunOptions,
  type RunResult,
  type StreamOptions,
} from "./command-runner.js";

// CommandRunner over execa. Never throws for a non-zero exit: callers decide what a
// failure means and turn it into a ProdlikeError with the right code. execa is loaded on
// the first run, so commands that start no process do not pay for it.
export class ExecaCommandRunner implements CommandRunner {
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const { execa } = await import("execa");
    const inherit = options.stdio === "inherit";
    const group = options.group === true;
    const subprocess = execa(file, args, {
      reject: false,
      extendEnv: true,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
      // A group is stopped below, as a whole; execa would stop its leader alone.
      ...(options.timeoutMs === undefined || group ? {} : { timeout: options.timeoutMs }),
      ...(options.signal === undefined || group ? {} : { cancelSignal: options.signal }),
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(group ? { detached: true } : {}),
      stdin: inherit ? "inherit" : options.input === undefined ? "ignore" : "pipe",
      stdout: inherit ? "inherit" : "pipe",
      stderr: inherit ? "inherit" : "pipe",
      stripFinalNewline: true,
    });
    const stopper = group ? stopGroupOn(subprocess.pid, options) : undefined;
    const result = await subprocess;
    stopper?.done();
    const notFound = (result as { code?: string }).code === "ENOENT";
    return {
      exitCode: result.exitCode ?? (notFound ? 127 : 1),
      stdout: typeof result.stdout === "string" ? result.stdout : "",
      stderr: typeof result.stderr === "string" ? result.stderr : "",
      notFound,
      ...(result.timedOut || stopper?.timedOut() ? { timedOut: true } : {}),
    };
  }

  // node:child_process, not execa: execa only takes streams backed by a file descriptor,
  // and dumps come from gunzip transforms and sockets.
  async stream(file: string, args: readonly string[], options: StreamOptions): Promise<RunResult> {
    const { spawn } = await import("node:child_process");
    return new Promise<RunResult>((resolve) => {
      const child = spawn(file, args, {
        stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
        ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      });
      let stdout = "";
      let stderr = "";
      let notFound = false;
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
      });
      if (options.stdout) {
        child.stdout?.pipe(options.stdout, { end: false });
        // The reader gave up (a load failed, Ctrl-C): stop the program writing into it.
        options.stdout.once("close", () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        });
      } else child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      if (options.stdin && child.stdin) {
        const input = child.stdin;
        // The program may stop reading early (it failed): that is its exit code's story,
        // not an EPIPE crash here.
        input.on("error", () => undefined);
        // The source failed (a corrupt .gz, Ctrl-C): end the program's input so it stops
        // (the docker CLI ignores SIGTERM), and kill it should it hang on.
        const stopInput = (error: Error) => {
          stderr += `\n${error.message}`;
          input.end();
          setTimeout(() => child.kill("SIGKILL"), 5000).unref();
        };
        // A small source can fail before the program even started: no error event is
        // coming then, so look.
        if (options.stdin.errored || options.stdin.destroyed) {
          stopInput(options.stdin.errored ?? new Error("input closed before the program started"));
        } else {
          options.stdin.on("error", stopInput);
          options.stdin.pipe(input);
        }
      }
      child.on("error", (error: NodeJS.ErrnoException) => {
        notFound = error.code === "ENOENT";
        stderr += error.message;
      });
      child.on("close", (code, signal) => {
        options.stdin?.unpipe();
        resolve({
          exitCode: code ?? (notFound ? 127 : signal ? 128 + 15 : 1),
          stdout: stdout.replace(/\n$/, ""),
          stderr: stderr.replace(/\n$/, ""),
          notFound,
        });
      });
    });
  }
}

// Stops a process group (SIGTERM, then SIGKILL after a grace period) when its time is up
// or the signal aborts: a shell's children go with it.
function stopGroupOn(
  pid: number | undefined,
  options: Pick<RunOptions, "timeoutMs" | "signal">,
): { done(): void; timedOut(): boolean } {
  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  const stop = () => {
    if (pid === undefined) return;
    signalGroup(pid, "SIGTERM");
    timers.push(setTimeout(() => signalGroup(pid, "SIGKILL"), GROUP_GRACE_MS));
  };
  if (options.timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs),
    );
  }
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  return {
    done() {
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", stop);
    },
    timedOut: () => timedOut,
  };
}

const GROUP_GRACE_MS = 5000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
