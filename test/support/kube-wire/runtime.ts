import type { Duplex, Readable, Writable } from "node:stream";
import type { V1Container, V1Pod } from "@kubernetes/client-node";

// What the double's kubelet asks of whatever runs a pod's containers: processes on this
// machine (host-runtime.ts) or Docker containers (docker-runtime.ts). The API side (exec
// and attach channels, logs, port-forward, pod status) is the same for both, so the wire
// protocol the client sees does not depend on which one runs the pod.

export type ContainerState =
  | { state: "waiting"; reason: string; message?: string }
  | { state: "running"; startedAt: string }
  | {
      state: "terminated";
      exitCode: number;
      reason: string;
      startedAt: string;
      finishedAt: string;
    };

export type ExecExit = { exitCode: number } | { error: string };

/** A process started by exec or attach, with its streams. */
export interface ContainerProcess {
  stdin: Writable | undefined;
  stdout: Readable;
  /** Absent with a TTY: the terminal has one output stream. */
  stderr: Readable | undefined;
  /** Settles when the process ends (never for attach: the container's life is its own). */
  exited: Promise<ExecExit>;
  resize(size: { Width: number; Height: number }): void;
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  previous: boolean;
}

/** What a pod's containers need from the cluster: its config maps, secrets and claims. */
export interface PodContext {
  configMap(name: string): Record<string, string> | undefined;
  /** Decoded values. */
  secret(name: string): Record<string, string> | undefined;
  /** The node's path for a hostPath (kind's extraMounts map the node to this machine). */
  hostPath(nodePath: string): string;
  /** The names the pod answers to: the Services that select it. */
  aliases: string[];
  /** Records an event on the pod (a failed probe). */
  event(type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface PodRuntime {
  /** Starts the pod's containers (init containers first, each to completion). */
  startPod(pod: V1Pod, context: PodContext): Promise<void>;
  stopPod(pod: V1Pod): Promise<void>;
  /** What the container does now, as the kubelet would report it. */
  containerState(pod: V1Pod, container: V1Container): Promise<ContainerState>;
  /** Starts an exited container again (restartPolicy Always). */
  restartContainer(pod: V1Pod, container: V1Container): Promise<void>;
  /** The readiness probe's answer (no probe: running is ready). */
  ready(pod: V1Pod, container: V1Container): Promise<boolean>;
  exec(
    pod: V1Pod,
    container: string,
    command: readonly string[],
    options: { stdin: boolean; tty: boolean },
  ): Promise<ContainerProcess>;
  attach(
    pod: V1Pod,
    container: string,
    options: { stdin: boolean; tty: boolean },
  ): Promise<ContainerProcess>;
  logs(pod: V1Pod, container: string, options: LogOptions): Promise<Readable>;
  /** A TCP connection to the pod's port, as port-forward makes it. */
  connect(pod: V1Pod, port: number): Promise<Duplex>;
  podIP(pod: V1Pod): Promise<string>;
  /** Everything it made, gone. */
  close(): Promise<void>;
}
