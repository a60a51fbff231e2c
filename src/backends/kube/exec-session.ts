import { PassThrough, type Readable, Writable } from "node:stream";
import type { Exec, V1Status } from "@kubernetes/client-node";
import { ProdlikeError } from "../../errors/prodlike-error.js";

// One command run through the exec API's websocket, settled exactly once: by the status
// frame (the exit code), by the socket closing without one (an error), or by a socket
// error. Whatever the server negotiated, stdin behaves as on compose:
// - v5.channel.k8s.io (Kubernetes >= 1.29) can say "stdin ended" (a close signal), which
//   client-node sends when the stream it was given ends;
// - v4.channel.k8s.io cannot: client-node closes the whole socket when stdin ends, and the
//   command's output and exit code are lost. There prodlike never ends client-node's
//   stream; a command that reads stdin gets it through a small shell decoder instead, as
//   length-prefixed frames ending with a 0-length one, so the command sees EOF while the
//   socket stays open until the status frame.
// A terminal session's stdin (Ctrl-D is a byte there) is passed as typed and let go of
// when the command ends, so prodlike exits without waiting for more keys.

export const V5_PROTOCOL = "v5.channel.k8s.io";

/** Reads length-prefixed frames from stdin until a 0-length one, into "$@"'s stdin; when
 *  "$@" ends first (stdin still open), the reader is stopped so the shell can exit: it
 *  sends its pid as the first line. GNU head reads exactly N bytes from a pipe; busybox
 *  head buffers, so dd does it there. */
export const STDIN_DECODER = [
  'if head --version >/dev/null 2>&1; then take() { head -c "$1"; }',
  'else take() { dd bs=1 count="$1" 2>/dev/null; }; fi',
  '{ sh -c \'echo $PPID\'; while IFS= read -r n && [ "$n" -gt 0 ]; do take "$n"; done; } |',
  '{ IFS= read -r reader; "$@"; code=$?; kill "$reader" 2>/dev/null; exit "$code"; }',
].join("\n");

/** Frames are sent up to this size: a `head` per frame stays cheap next to the data. */
const FRAME_BYTES = 1 << 20;
/** Stop reading stdin while this much waits in the socket (client-node does not). */
const SOCKET_HIGH_WATER = 8 << 20;

export interface ExecStreams {
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  tty: boolean;
}

interface ExecSocket {
  protocol: string;
  bufferedAmount: number;
  on(event: "close", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  close(): void;
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** The command as sent: wrapped in the stdin decoder when the server speaks v4 only. */
export function commandFor(command: readonly string[], framed: boolean): string[] {
  return framed ? ["sh", "-c", STDIN_DECODER, "prodlike-stdin", ...command] : [...command];
}

/** Which exec protocol the server negotiates: an exec of a command that does not exist
 *  (nothing runs), closed as soon as the socket is open. */
export async function negotiatedProtocol(exec: Exec, target: ExecTarget): Promise<string> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const socket = (await exec.exec(
    target.namespace,
    target.pod,
    target.container,
    ["prodlike-exec-protocol-probe"],
    sink,
    null,
    null,
    false,
  )) as unknown as ExecSocket;
  socket.on("error", () => undefined);
  socket.close();
  return socket.protocol;
}

export async function runExec(
  exec: Exec,
  target: ExecTarget,
  command: readonly string[],
  streams: ExecStreams,
  protocol: () => Promise<string>,
): Promise<number> {
  const { stdin, tty } = streams;
  const framed = stdin !== null && !tty && (await protocol()) !== V5_PROTOCOL;
  const feed = stdin ? new PassThrough() : null;
  // A terminal is passed as it is (client-node reads its size); any other stream is
  // wrapped, so that client-node's end() at the status frame does not end the caller's.
  const resizable = "columns" in streams.stdout && "rows" in streams.stdout;
  const stdout = resizable ? streams.stdout : forwarder(streams.stdout);
  const stderr = forwarder(streams.stderr);
  let stopFeeding: () => void = () => undefined;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let statusSeen = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      stopFeeding();
      outcome();
    };
    exec
      .exec(
        target.namespace,
        target.pod,
        target.container,
        commandFor(command, framed),
        stdout,
        stderr,
        feed,
        tty,
        (status: V1Status) => {
          statusSeen = true;
          const code = exitCodeFromStatus(status);
          if (code.message) streams.stderr.write(`${code.message}\n`);
          // The output written before the status frame reaches the caller's streams first.
          void Promise.all([flushed(stdout), flushed(stderr)]).then(() =>
            settle(() => resolve(code.exitCode)),
          );
        },
      )
      .then(
        (opened) => {
          const socket = opened as unknown as ExecSocket;
          socket.on("error", (error) =>
            settle(() => reject(connectionLost(target, error.message))),
          );
          // After the status frame its handler settles (once the output is flushed); a close
          // without one lost the command's end.
          socket.on("close", () => {
            if (!statusSeen)
              settle(() => reject(connectionLost(target, "closed before the exit status")));
          });
          if (stdin && feed) {
            stopFeeding = feedStdin(stdin, feed, socket, {
              framed,
              endSignal: socket.protocol === V5_PROTOCOL,
            });
          }
        },
        // The upgrade refused (a container gone since it was found): said, not thrown raw.
        (error: unknown) =>
          settle(() =>
            reject(
              new ProdlikeError(
                "COMMAND_FAILED",
                `The API server refused to run a command in ${target.pod}/${target.container}`,
                { hint: errorText(error), cause: error },
              ),
            ),
          ),
      );
  });
}

// client-node rejects with the websocket's ErrorEvent, whose text is in `message`.
function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

// Copies the caller's stdin into client-node's stream: framed on v4, ended on v5 (the
// close signal), never ended otherwise. Returns how to let go of stdin.
function feedStdin(
  stdin: Readable,
  feed: PassThrough,
  socket: ExecSocket,
  mode: { framed: boolean; endSignal: boolean },
): () => void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    feed.write(Buffer.concat([Buffer.from(`${data.length}\n`), data]));
  };
  let scheduled = false;
  // Set while stdin waits for the socket to drain.
  let resume: NodeJS.Timeout | undefined;
  const onData = (chunk: Buffer | string) => {
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (!mode.framed) feed.write(data);
    else {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes >= FRAME_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      }
    }
    if (socket.bufferedAmount > SOCKET_HIGH_WATER && !resume) {
      stdin.pause();
      resume = setInterval(() => {
        if (socket.bufferedAmount > SOCKET_HIGH_WATER / 2) return;
        clearInterval(resume);
        resume = undefined;
        stdin.resume();
      }, 20);
    }
  };
  const onEnd = () => {
    if (mode.framed) {
      flush();
      feed.write("0\n");
    } else if (mode.endSignal) feed.end();
  };
  stdin.on("data", onData);
  stdin.once("end", onEnd);
  return () => {
    clearInterval(resume);
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    // Not reading any more lets the process exit while the terminal or pipe stays open.
    stdin.pause();
  };
}

// A writable that passes chunks on to `target` and can be ended without ending it.
function forwarder(target: Writable): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (target.write(chunk)) done();
      else target.once("drain", () => done());
    },
  });
}

// Ended by client-node at the status frame: finished once every chunk reached its target.
// A terminal is never ended and holds nothing of ours.
function flushed(stream: Writable): Promise<void> {
  if (!stream.writableEnded || stream.writableFinished) return Promise.resolve();
  return new Promise((resolve) => stream.once("finish", () => resolve()));
}

function connectionLost(target: ExecTarget, why: string): ProdlikeError {
  return new ProdlikeError(
    "COMMAND_FAILED",
    `The connection to ${target.pod}/${target.container} ended before the command did: ${why}`,
    { hint: "The command may still have run. Check the cluster with `prodlike status`." },
  );
}

/** The exec channel's closing status: Success, or Failure with the exit code as a cause;
 *  a failure without one (the command could not start) as a shell would report it. */
export function exitCodeFromStatus(status: V1Status): { exitCode: number; message?: string } {
  if (status.status === "Success") return { exitCode: 0 };
  const cause = status.details?.causes?.find((item) => item.reason === "ExitCode");
  const code = Number(cause?.message);
  if (cause && Number.isInteger(code)) return { exitCode: code };
  const message = status.message ?? "the command failed to start";
  const exitCode = /not found|no such file/i.test(message)
    ? 127
    : /permission denied/i.test(message)
      ? 126
      : 1;
  return { exitCode, message };
}
