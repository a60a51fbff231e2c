import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type {
  ContainerProcess,
  ContainerState,
  ExecExit,
  LogOptions,
  PodContext,
  PodRuntime,
} from "./runtime.js";

// Pods as processes on this machine, for tests of the protocols themselves: a container's
// command runs with its env in a folder of its own, exec runs the command given (a TTY
// through util-linux `script`, a real pseudo-terminal), logs are what the main process
// wrote, port-forward reaches 127.0.0.1. Only images named `wire.test/...` run: any other
// image waits in ErrImagePull, so nothing a manifest names by accident runs on the host.

export const HOST_IMAGE_PREFIX = "wire.test/";

interface HostContainer {
  process: ChildProcess | undefined;
  lines: string[];
  previous: string[];
  followers: Set<PassThrough>;
  startedAt: string;
  exit: { exitCode: number; signal: string | null; finishedAt: string } | undefined;
  spec: V1Container;
  cwd: string;
  env: Record<string, string>;
}

export class HostRuntime implements PodRuntime {
  private readonly pods = new Map<string, Map<string, HostContainer>>();
  private root: string | undefined;

  async startPod(pod: V1Pod, context: PodContext): Promise<void> {
    this.root ??= await mkdtemp(path.join(os.tmpdir(), "kube-wire-"));
    const containers = new Map<string, HostContainer>();
    this.pods.set(podKey(pod), containers);
    const cwd = path.join(this.root, pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
    await mkdir(cwd, { recursive: true });
    for (const spec of pod.spec?.containers ?? []) {
      const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd };
      for (const variable of spec.env ?? []) {
        const secret = variable.valueFrom?.secretKeyRef;
        const value = secret
          ? context.secret(secret.name ?? "")?.[secret.key]
          : variable.valueFrom?.fieldRef?.fieldPath === "metadata.name"
            ? pod.metadata?.name
            : variable.value;
        if (value !== undefined) env[variable.name] = value;
      }
      const container: HostContainer = {
        process: undefined,
        lines: [],
        previous: [],
        followers: new Set(),
        startedAt: now(),
        exit: undefined,
        spec,
        cwd,
        env,
      };
      containers.set(spec.name, container);
      if (spec.image?.startsWith(HOST_IMAGE_PREFIX)) this.run(container);
    }
  }

  async stopPod(pod: V1Pod): Promise<void> {
    for (const container of this.pods.get(podKey(pod))?.values() ?? []) {
      container.process?.kill("SIGTERM");
      for (const follower of container.followers) follower.end();
    }
    this.pods.delete(podKey(pod));
  }

  async containerState(pod: V1Pod, spec: V1Container): Promise<ContainerState> {
    const container = this.pods.get(podKey(pod))?.get(spec.name);
    if (!spec.image?.startsWith(HOST_IMAGE_PREFIX))
      return {
        state: "waiting",
        reason: "ErrImagePull",
        message: `the host runtime runs only ${HOST_IMAGE_PREFIX} images, not ${spec.image}`,
      };
    if (!container?.process) return { state: "waiting", reason: "ContainerCreating" };
    if (container.exit)
      return {
        state: "terminated",
        exitCode: container.exit.exitCode,
        reason: container.exit.exitCode === 0 ? "Completed" : "Error",
        startedAt: container.startedAt,
        finishedAt: container.exit.finishedAt,
      };
    return { state: "running", startedAt: container.startedAt };
  }

  async restartContainer(pod: V1Pod, spec: V1Container): Promise<void> {
    const container = this.pods.get(podKey(pod))?.get(spec.name);
    if (!container) return;
    container.previous = container.lines;
    container.lines = [];
    this.run(container);
  }

  async ready(pod: V1Pod, spec: V1Container): Promise<boolean> {
    return (await this.containerState(pod, spec)).state === "running";
  }

  async exec(
    pod: V1Pod,
    name: string,
    command: readonly string[],
    options: { stdin: boolean; tty: boolean },
  ): Promise<ContainerProcess> {
    const container = this.require(pod, name);
    const [file = "", ...args] = command;
    const child = options.tty
      ? spawn("script", ["-qfec", command.map(quote).join(" "), "/dev/null"], {
          cwd: container.cwd,
          env: { ...container.env, TERM: "xterm" },
        })
      : spawn(file, args, { cwd: container.cwd, env: container.env });
    if (!options.stdin) child.stdin?.end();
    const exited = new Promise<ExecExit>((resolve) => {
      child.on("error", (error: NodeJS.ErrnoException) =>
        resolve({
          error:
            // A name without a slash is looked up on PATH: a folder there this user cannot
            // read makes the lookup fail with EACCES, which runc reports as not found too.
            error.code === "ENOENT" || (error.code === "EACCES" && !file.includes("/"))
              ? `OCI runtime exec failed: exec failed: unable to start container process: exec: "${file}": executable file not found in $PATH: unknown`
              : error.message,
        }),
      );
      child.on("close", (code, signal) => resolve({ exitCode: exitCodeOf(code, signal) }));
    });
    return {
      stdin: options.stdin ? (child.stdin ?? undefined) : undefined,
      stdout: child.stdout ?? new PassThrough(),
      stderr: options.tty ? undefined : (child.stderr ?? undefined),
      exited,
      resize: () => undefined,
    };
  }

  async attach(
    pod: V1Pod,
    name: string,
    options: { stdin: boolean; tty: boolean },
  ): Promise<ContainerProcess> {
    const container = this.require(pod, name);
    const child = container.process;
    if (!child) throw new Error(`container ${name} is not running`);
    const stdout = new PassThrough();
    container.followers.add(stdout);
    return {
      stdin: options.stdin ? (child.stdin ?? undefined) : undefined,
      stdout,
      stderr: undefined,
      exited: new Promise(() => undefined),
      resize: () => undefined,
    };
  }

  async logs(pod: V1Pod, name: string, options: LogOptions): Promise<Readable> {
    const container = this.require(pod, name);
    const source = options.previous ? container.previous : container.lines;
    const lines =
      options.tailLines === undefined ? source : source.slice(-Math.max(0, options.tailLines));
    const out = new PassThrough();
    out.write(lines.join(""));
    if (options.follow && !options.previous && container.process && !container.exit) {
      container.followers.add(out);
      out.on("close", () => container.followers.delete(out));
    } else out.end();
    return out;
  }

  async connect(_pod: V1Pod, port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
      socket.once("error", reject);
    });
  }

  async podIP(): Promise<string> {
    return "127.0.0.1";
  }

  async close(): Promise<void> {
    for (const containers of this.pods.values())
      for (const container of containers.values()) container.process?.kill("SIGKILL");
    this.pods.clear();
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }

  private run(container: HostContainer): void {
    const command = [...(container.spec.command ?? []), ...(container.spec.args ?? [])];
    const [file = "sleep", ...args] = command.length > 0 ? command : ["sleep", "infinity"];
    container.exit = undefined;
    container.startedAt = now();
    const child = spawn(file, args, {
      cwd: container.cwd,
      env: container.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    container.process = child;
    let pending = "";
    const collect = (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const parts = pending.split(/(?<=\n)/);
      pending = parts.at(-1)?.endsWith("\n") ? "" : (parts.pop() ?? "");
      container.lines.push(...parts);
      for (const follower of container.followers) follower.write(chunk);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.on("error", () => undefined);
    child.on("close", (code, signal) => {
      if (pending) container.lines.push(pending);
      container.exit = { exitCode: exitCodeOf(code, signal), signal, finishedAt: now() };
      for (const follower of container.followers) follower.end();
      container.followers.clear();
    });
  }

  private require(pod: V1Pod, name: string): HostContainer {
    const container = this.pods.get(podKey(pod))?.get(name);
    if (!container) throw new Error(`no container ${name} in pod ${pod.metadata?.name}`);
    return container;
  }
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

// A process killed by a signal reports 128 + its number, as a container runtime does
// (SIGKILL: 137).
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
}

function quote(word: string): string {
  return /^[\w./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
