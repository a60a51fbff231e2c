import { fstatSync } from "node:fs";
import { type Readable, Writable } from "node:stream";
import type { EnvironmentRecord } from "../../env/environment-records.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { OUTPUT_TAIL_CHARS } from "../../process/command-runner.js";
import { KubeLabel } from "../../topology/kube-labels.js";
import type {
  ExecRequest,
  LogOptions,
  ServiceLogLine,
  StreamExecRequest,
  StreamExecResult,
} from "../backend.js";
import type { KubeApi, PodInfo } from "./kube-api.js";

// Commands and logs in an environment's pods through the Kubernetes API: exec with the
// terminal or with streams, logs of several containers prefixed with their names.

export interface PodTarget {
  record: EnvironmentRecord;
  api: KubeApi;
  pod: PodInfo;
}

export interface Stdio {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** The running pod that has the service's container (and matches the selector). */
export async function findPod(
  api: KubeApi,
  record: EnvironmentRecord,
  service: string,
  selector?: string,
): Promise<PodTarget> {
  const envId = record.id;
  const pods = await api.listPods(
    record.namespace,
    [`${KubeLabel.env}=${envId}`, ...(selector ? [selector] : [])].join(","),
  );
  const pod = pods.find((candidate) =>
    candidate.containers.some((container) => container.name === service),
  );
  if (!pod) throw serviceNotFound(envId, service, pods);
  const container = pod.containers.find((candidate) => candidate.name === service);
  if (pod.phase !== "Running" || container?.state !== "running") {
    throw new ProdlikeError(
      "SERVICE_NOT_RUNNING",
      `Service ${service} of ${envId} is ${container?.state ?? pod.phase}`,
      { hint: "Start the environment with `prodlike up`." },
    );
  }
  return { record, api, pod };
}

/** Runs a command with the terminal attached; resolves its exit code. */
export async function execAttached(
  { record, api, pod }: PodTarget,
  request: ExecRequest,
  given: Stdio | undefined,
): Promise<number> {
  const stdio = given ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  // stdin from /dev/null (scripts, CI, `</dev/null`) has nothing to send: no stdin channel
  // at all, so a v4 server needs no decoder (nor a shell in the container) for it.
  const stdin = given === undefined && stdinIsNullDevice() ? null : stdio.stdin;
  // The exec API has no working directory: a shell changes into it first.
  const command = request.workdir
    ? ["sh", "-c", 'cd "$0" && exec "$@"', request.workdir, ...request.command]
    : request.command;
  const rawMode = request.tty && "setRawMode" in stdio.stdin;
  if (rawMode) (stdio.stdin as NodeJS.ReadStream).setRawMode(true);
  try {
    return await api.exec(record.namespace, pod.name, request.service, command, {
      stdin,
      stdout: stdio.stdout,
      stderr: stdio.stderr,
      tty: request.tty,
    });
  } finally {
    if (rawMode) (stdio.stdin as NodeJS.ReadStream).setRawMode(false);
  }
}

// A character device that is no terminal: /dev/null, in practice.
function stdinIsNullDevice(): boolean {
  try {
    const stats = fstatSync(0);
    return stats.isCharacterDevice() && !process.stdin.isTTY;
  } catch {
    return false;
  }
}

/** Runs a command with streams: stdin piped in, stdout collected or streamed out. */
export async function execCollected(
  { record, api, pod }: PodTarget,
  request: StreamExecRequest,
): Promise<StreamExecResult> {
  let stdout = "";
  let stderr = "";
  const collect = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString("utf8"));
        done();
      },
    });
  const exitCode = await api.exec(record.namespace, pod.name, request.service, request.command, {
    stdin: request.stdin ?? null,
    stdout: request.stdout ?? collect((text) => (stdout += text)),
    stderr: collect((text) => (stderr = (stderr + text).slice(-OUTPUT_TAIL_CHARS))),
    tty: false,
  });
  return { exitCode, stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") };
}

/** The named containers' logs (all when none), each line prefixed when there are several. */
export async function streamLogs(
  api: KubeApi,
  record: EnvironmentRecord,
  services: readonly string[],
  out: Writable,
  options: LogOptions,
): Promise<void> {
  const pods = await api.listPods(record.namespace, `${KubeLabel.env}=${record.id}`);
  const targets = pods.flatMap((pod) =>
    pod.containers
      .filter((container) => services.length === 0 || services.includes(container.name))
      .map((container) => ({ pod: pod.name, container: container.name })),
  );
  for (const service of services) {
    if (!targets.some((target) => target.container === service))
      throw serviceNotFound(record.id, service, pods);
  }
  await Promise.all(
    targets.map((target) =>
      api.logs(
        record.namespace,
        target.pod,
        target.container,
        prefixed(out, targets.length > 1 ? target.container : ""),
        { follow: options.follow, tail: options.tail },
      ),
    ),
  );
}

export function serviceNotFound(
  envId: string,
  service: string,
  pods: readonly PodInfo[],
): ProdlikeError {
  const known = [...new Set(pods.flatMap((pod) => pod.containers.map((c) => c.name)))]
    .sort()
    .join(", ");
  return new ProdlikeError(
    "SERVICE_NOT_FOUND",
    `Environment ${envId} has no running service \`${service}\``,
    {
      hint: known ? `Its services: ${known}.` : "No pods are running: prodlike up.",
    },
  );
}

// Log lines of several containers, each prefixed with its container's name.
function prefixed(out: Writable, prefix: string): Writable {
  if (!prefix) return out;
  let pending = "";
  return new Writable({
    write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) out.write(`${prefix} | ${line}\n`);
      done();
    },
    final(done: () => void) {
      if (pending) out.write(`${prefix} | ${pending}\n`);
      done();
    },
  });
}

/** Each named container's lines (all when none), as the dashboard follows them, until
 *  `signal` aborts: the writables are destroyed, which ends the log requests. */
export async function followPodLogLines(
  api: KubeApi,
  record: EnvironmentRecord,
  services: readonly string[],
  options: { tail: number; signal: AbortSignal },
  onLine: (line: ServiceLogLine) => void,
): Promise<void> {
  const pods = await api.listPods(record.namespace, `${KubeLabel.env}=${record.id}`);
  for (const service of services) {
    if (!pods.some((pod) => pod.containers.some((container) => container.name === service)))
      throw serviceNotFound(record.id, service, pods);
  }
  const targets = pods.flatMap((pod) =>
    pod.containers
      .filter((container) => services.length === 0 || services.includes(container.name))
      .map((container) => ({ pod: pod.name, container: container.name })),
  );
  await Promise.all(
    targets.map(async (target) => {
      let partial = "";
      const out = new Writable({
        write(chunk: Buffer, _encoding, done) {
          const lines = (partial + chunk.toString("utf8")).split("\n");
          partial = lines.pop() ?? "";
          for (const text of lines) onLine({ service: target.container, stream: "stdout", text });
          done();
        },
      });
      const stop = () => out.destroy();
      options.signal.addEventListener("abort", stop, { once: true });
      try {
        await api.logs(record.namespace, target.pod, target.container, out, {
          follow: true,
          tail: options.tail,
        });
      } catch (error) {
        if (!options.signal.aborted) throw error;
      } finally {
        options.signal.removeEventListener("abort", stop);
      }
    }),
  );
}
