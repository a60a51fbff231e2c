import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { ContainerProcess, ExecExit } from "./runtime.js";
import type { Status } from "./status.js";

// The websocket channel protocols of exec, attach and port-forward, as kube-apiserver and
// the kubelet speak them: each binary message starts with its channel's number. exec and
// attach (v4.channel.k8s.io, v5.channel.k8s.io): 0 stdin, 1 stdout, 2 stderr, 3 the closing
// metav1.Status (the exit code as a cause), 4 terminal resize ({"Width","Height"}); v5 adds
// 255, "close this channel" (255 0 = stdin ended) — v4 has no way to say stdin ended, so a
// client there closes the socket. port-forward (v4.channel.k8s.io at the kubelet): per
// port, a data channel 2i and an error channel 2i+1, each opened by the port number as two
// little-endian bytes.

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;
export const RESIZE = 4;
export const CLOSE = 255;

export const EXEC_PROTOCOLS_V4 = ["v4.channel.k8s.io"];
export const EXEC_PROTOCOLS_V5 = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
export const PORT_FORWARD_PROTOCOLS = ["v4.channel.k8s.io", "channel.k8s.io"];

function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** The status frame's body for how the command ended. */
export function exitStatus(
  command: readonly string[],
  exit: ExecExit,
): Omit<Status, "kind" | "apiVersion"> {
  if ("error" in exit)
    return {
      metadata: {},
      status: "Failure",
      message: exit.error,
      reason: "InternalError",
      details: { causes: [{ message: exit.error }] },
    };
  if (exit.exitCode === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${exit.exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exit.exitCode) }] },
  };
}

/** What the double saw of one exec or attach session (tests assert on it). */
export interface SessionRecord {
  protocol: string;
  command: readonly string[];
  stdinBytes: number;
  /** How stdin ended while the command ran: v5's close signal, or the socket closed. */
  stdinClosed: "signal" | "socket" | undefined;
  resizes: { Width: number; Height: number }[];
}

/** Serves one exec (or attach, which never sends a status) over a connected socket. */
export function serveExec(
  socket: WebSocket,
  process: ContainerProcess,
  command: readonly string[],
  record: SessionRecord,
  options: { sendStatus: boolean },
): void {
  const v5 = socket.protocol === "v5.channel.k8s.io";
  const outputs = [process.stdout, ...(process.stderr ? [process.stderr] : [])];
  const drained = outputs.map(
    (stream) => new Promise<void>((resolve) => stream.once("end", resolve).once("close", resolve)),
  );
  const send = (channel: number) => (chunk: Buffer) => {
    if (socket.readyState === socket.OPEN) socket.send(frame(channel, chunk));
  };
  process.stdout.on("data", send(STDOUT));
  process.stderr?.on("data", send(STDERR));
  const endStdin = (how: "signal" | "socket") => {
    if (record.stdinClosed) return;
    record.stdinClosed = how;
    process.stdin?.end();
  };
  socket.on("message", (data: Buffer, isBinary: boolean) => {
    const message = isBinary ? data : Buffer.from(data);
    const channel = message[0];
    const body = message.subarray(1);
    if (channel === STDIN) {
      record.stdinBytes += body.length;
      process.stdin?.write(body);
    } else if (channel === RESIZE) {
      // Go decodes JSON field names case-insensitively: client-node sends width/height.
      const sent = JSON.parse(body.toString("utf8")) as Record<string, number>;
      const size = {
        Width: sent.Width ?? sent.width ?? 0,
        Height: sent.Height ?? sent.height ?? 0,
      };
      record.resizes.push(size);
      process.resize(size);
    } else if (channel === CLOSE && v5 && body[0] === STDIN) endStdin("signal");
  });
  // The client went away: the command's stdin ends (its output has nowhere to go). After
  // the command ended the close is the session's normal end, not a stdin that ended.
  let exited = false;
  void process.exited.then(() => {
    exited = true;
  });
  socket.on("close", () => {
    if (exited) process.stdin?.end();
    else endStdin("socket");
  });
  process.stdin?.on("error", () => undefined);
  if (!options.sendStatus) return;
  void process.exited.then(async (exit) => {
    await Promise.all(drained);
    if (socket.readyState !== socket.OPEN) return;
    socket.send(frame(STATUS, JSON.stringify(exitStatus(command, exit))));
    socket.close(1000);
  });
}

/** Serves port-forward to the given ports; `connect` dials the pod's port. */
export function servePortForward(
  socket: WebSocket,
  ports: readonly number[],
  connect: (port: number) => Promise<Duplex>,
  describe: (port: number, error: Error) => string,
): void {
  // Data the client sends before the pod's port answered waits for the connection, in order.
  const connections = new Map<number, Promise<Duplex | undefined>>();
  ports.forEach((port, index) => {
    const number = Buffer.alloc(2);
    number.writeUInt16LE(port, 0);
    socket.send(frame(index * 2, number));
    socket.send(frame(index * 2 + 1, number));
    const failed = (error: Error) => {
      if (socket.readyState === socket.OPEN)
        socket.send(frame(index * 2 + 1, describe(port, error)));
    };
    const connection = connect(port).then((connected) => {
      connected.on("data", (chunk: Buffer) => {
        if (socket.readyState === socket.OPEN) socket.send(frame(index * 2, chunk));
      });
      connected.on("end", () => socket.close(1000));
      connected.on("error", failed);
      return connected;
    }, failed);
    connections.set(
      index * 2,
      connection.then((value) => value ?? undefined),
    );
  });
  socket.on("message", (data: Buffer) => {
    const body = data.subarray(1);
    void connections.get(data[0] ?? -1)?.then((connection) => connection?.write(body));
  });
  socket.on("close", () => {
    for (const connection of connections.values()) void connection.then((value) => value?.end());
  });
}
